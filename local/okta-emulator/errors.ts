import { randomBytes } from 'node:crypto';

/** The JSON error body of Okta's management API (`/api/v1/...`). */
export interface OktaErrorBody {
  readonly errorCode: string;
  readonly errorSummary: string;
  readonly errorLink: string;
  readonly errorId: string;
  readonly errorCauses: ReadonlyArray<{ readonly errorSummary: string }>;
}

/** An error answer of the emulated org: status, Okta error body (none for a DPoP refusal), and any extra headers. */
export interface ErrorAnswer {
  readonly status: number;
  readonly body: OktaErrorBody | undefined;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Okta's error ids look like `oae` and 22 letters or digits; clients only log them. */
function errorId(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  // base64url would also yield '-' and '_', which Okta's ids never carry; 256 % 62 bias is harmless for an id.
  return `oae${Array.from(randomBytes(22), (byte) => alphabet[byte % alphabet.length]).join('')}`;
}

export function oktaError(status: number, errorCode: string, errorSummary: string, causes: readonly string[] = []): ErrorAnswer {
  return {
    status,
    body: {
      errorCode,
      errorSummary,
      errorLink: errorCode,
      errorId: errorId(),
      errorCauses: causes.map((cause) => ({ errorSummary: cause })),
    },
  };
}

export const invalidToken = (): ErrorAnswer => oktaError(401, 'E0000011', 'Invalid token provided');

export const rateLimited = (): ErrorAnswer => oktaError(429, 'E0000047', 'API call exceeded rate limit due to too many requests.');

export const badParameter = (field: string, cause: string): ErrorAnswer =>
  oktaError(400, 'E0000001', `Api validation failed: ${field}`, [cause]);
