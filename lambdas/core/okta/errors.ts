/**
 * Typed errors of the Okta client. Each carries the `kind` that the pull summary and the cursor's
 * `lastError` report, the source id, and the HTTP status and Okta error code when there was one.
 * Messages are built from our own words, URLs of the org (which carry no credential) and Okta's
 * `errorSummary` passed through the client's redaction; a `cause` is attached only when it
 * cannot quote a credential (a JSON SyntaxError quotes the text it failed on, so it never is).
 */

/** What went wrong, in the words of the pull summary (`PullSummary.error.kind`). */
export type OktaErrorKind = 'auth' | 'permission' | 'bad-request' | 'rate-limited' | 'unavailable' | 'foreign-origin' | 'config';

export interface OktaErrorDetails {
  readonly status?: number;
  readonly errorCode?: string;
  readonly cause?: unknown;
}

export abstract class OktaError extends Error {
  abstract readonly kind: OktaErrorKind;
  readonly status: number | undefined;
  readonly errorCode: string | undefined;

  constructor(
    readonly sourceId: string,
    message: string,
    details: OktaErrorDetails = {},
  ) {
    super(`source ${sourceId}: ${message}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.status = details.status;
    this.errorCode = details.errorCode;
  }
}

/** 401 or a refused OAuth client: the credential is wrong, revoked or expired. Never retried in a loop. */
export class OktaAuthError extends OktaError {
  readonly kind = 'auth';
  override readonly name = 'OktaAuthError';
}

/** 403: the credential is valid but may not read the System Log. */
export class OktaPermissionError extends OktaError {
  readonly kind = 'permission';
  override readonly name = 'OktaPermissionError';
}

/** 400: Okta refused a parameter (e.g. `since` older than it allows). */
export class OktaBadRequestError extends OktaError {
  readonly kind = 'bad-request';
  override readonly name = 'OktaBadRequestError';
}

/**
 * The rate limit stopped the request: either 429s kept coming, or (`deferred`) the wait for the
 * reset would end after the caller's deadline, so the request was not sent at all.
 */
export class OktaRateLimitError extends OktaError {
  readonly kind = 'rate-limited';
  override readonly name = 'OktaRateLimitError';

  constructor(
    sourceId: string,
    message: string,
    /** Epoch ms (the client's clock) from which a request may be sent again. */
    readonly retryAt: number,
    /** True when the client gave up waiting only because the deadline came first. */
    readonly deferred: boolean,
    details: OktaErrorDetails = {},
  ) {
    super(sourceId, message, details);
  }
}

/** 5xx, timeouts, connection errors, truncated or oversized bodies, after the retries ran out. */
export class OktaUnavailableError extends OktaError {
  readonly kind = 'unavailable';
  override readonly name = 'OktaUnavailableError';
}

/** A next link (or a stored cursor) points at another origin than the org's: the credential is not sent there. */
export class ForeignOriginError extends OktaError {
  readonly kind = 'foreign-origin';
  override readonly name = 'ForeignOriginError';

  constructor(
    sourceId: string,
    message: string,
    /** The origin that was refused. */
    readonly foreignOrigin: string,
  ) {
    super(sourceId, message);
  }
}

/** The source's configuration cannot be used (domain not allowed, key unusable). */
export class OktaConfigError extends OktaError {
  readonly kind = 'config';
  override readonly name = 'OktaConfigError';
}
