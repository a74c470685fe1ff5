import type { Clock } from '../ports';
import type { HttpRequest, HttpResponse } from './http-exchange';
import type { OktaClientLimits } from './okta-client-options';

/** The context of one `fetchPage` call, shared by the log request and any token request it needs. */
export interface CallContext {
  /** Epoch ms by the client's clock; `Infinity` when the caller has none. */
  readonly deadline: number;
  readonly signal: AbortSignal | undefined;
  readonly onRateLimitWait: ((waitMs: number) => void) | undefined;
  readonly onRetry?: ((failure: string) => void) | undefined;
}

/** What a response means to the caller: a value, or a transient failure worth another attempt. */
export type Interpretation<T> = { readonly value: T } | { readonly retry: string };

/** The part of the client that the authenticators use to reach the org's token endpoint. */
export interface OrgTransport {
  readonly sourceId: string;
  readonly origin: string;
  readonly clock: Clock;
  readonly limits: OktaClientLimits;
  /** Headers every request carries (Accept, User-Agent). */
  baseHeaders(): Record<string, string>;
  /**
   * Sends a request built afresh for every attempt (so each carries a new JWT `jti`), waiting on
   * `gate`, retrying 5xx / network failures / `retry` interpretations with backoff, and waiting
   * out 429s; anything `interpret` throws ends the call.
   */
  send<T>(
    build: () => HttpRequest,
    interpret: (response: HttpResponse) => Interpretation<T>,
    context: CallContext,
    gate: RateLimitGate,
  ): Promise<T>;
  /**
   * Text the org sent, made safe to log, store or print (`safeOrgText`): bounded to `maxLength`,
   * without control characters, every credential the client knows and each 12-character piece of
   * one redacted before it is cut.
   */
  redact(text: string, maxLength?: number): string;
  /** ` [errorId .., X-Okta-Request-Id ..]` of an answer, what Okta support asks for; '' when it has neither. */
  supportDetails(response: HttpResponse): string;
}

/**
 * When the next request to one endpoint may go out. A response at the reserve (or a 429) moves
 * it to the window's reset; the next request waits for it instead of spending the reserve.
 */
export class RateLimitGate {
  /** Epoch ms (the client's clock) before which no request is sent. */
  resumeAt = 0;

  constructor(readonly reservePercent: number) {}
}

/** The URL without its query: enough to say which endpoint answered, and short. */
export function describeUrl(url: string): string {
  if (!URL.canParse(url)) return 'an unparseable URL';
  const parsed = new URL(url);
  return `${parsed.origin}${parsed.pathname}`;
}
