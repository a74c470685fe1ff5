import type { Clock, SourceConfig } from '../ports';
import { createAuthenticator, type Authenticator } from './authenticator';
import { OktaAuthError, OktaBadRequestError, OktaConfigError, OktaPermissionError, OktaRateLimitError, OktaUnavailableError } from './errors';
import { exchange, ResponseTooLargeError, TransientExchangeError, type HttpRequest, type HttpResponse } from './http-exchange';
import { parseLinkHeader } from './link-header';
import { DEFAULT_OKTA_CLIENT_LIMITS, type OktaClientLimits, type OktaClientOptions } from './okta-client-options';
import { orgOriginOf, sameOriginUrl } from './org-origin';
import { isAtReserve, readRateLimit, resetWaitMs } from './rate-limit';
import { RateLimitGate, describeUrl, parseJsonObject, type CallContext, type Interpretation, type OrgTransport } from './transport';
import { dpopChallengeOf } from './www-authenticate';

/** Where a page starts: a polling request from a point in time, or a `next` link Okta returned. */
export type PageRequest = { readonly since: string } | { readonly nextUrl: string };

/** One page of the System Log. */
export interface LogPage {
  /** The URL that was requested. */
  readonly url: string;
  /** The events as Okta sent them, in its order. */
  readonly events: unknown[];
  /**
   * Where the next page starts: Okta's `next` link verbatim (checked to be on the org's origin).
   * This is the cursor to store once the page's events are durable.
   */
  readonly nextUrl: string;
  /** The page held fewer events than its `limit`: Okta has nothing more right now. */
  readonly caughtUp: boolean;
}

/** Per-call options of `fetchPage`. */
export interface FetchPageOptions {
  /**
   * Epoch ms (the client's clock): no rate-limit wait or retry backoff may end after it; the
   * client fails with an `OktaRateLimitError` (`deferred`) or `OktaUnavailableError` instead.
   * @default no deadline
   */
  readonly deadline?: number;
  /** Aborts the request in flight and any wait; the client then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /** Called before each wait for the rate limit (reserve reached or 429), with its length. */
  readonly onRateLimitWait?: (waitMs: number) => void;
  /**
   * Called before each retry of a transient failure (5xx, timeout, reset, truncated body), with
   * what failed (no credential): a flapping org that retries absorb must still show in the logs.
   */
  readonly onRetry?: (failure: string) => void;
}

/** Reads one Okta org's System Log. Made by `createOktaClient`; one per source. */
export interface OktaClient {
  readonly sourceId: string;
  /** The only origin the credential is ever sent to. */
  readonly origin: string;
  /**
   * Fetches one page, waiting for the rate limit and retrying transient failures within the
   * configured bounds.
   * @throws OktaAuthError | OktaPermissionError | OktaBadRequestError | OktaRateLimitError |
   *   OktaUnavailableError | ForeignOriginError | OktaConfigError, or the signal's reason when aborted.
   */
  fetchPage(request: PageRequest, options?: FetchPageOptions): Promise<LogPage>;
}

/**
 * The Okta client of one source.
 * @throws OktaConfigError when the source's domain is not allowed or its OAuth key is unusable.
 */
export function createOktaClient(source: SourceConfig, options: OktaClientOptions): OktaClient {
  return new HttpOktaClient(source, options);
}

const LOGS_PATH = '/api/v1/logs';
/** Longest text of the org's (a summary, a description) quoted in a message, after redaction. */
const MAX_QUOTED_LENGTH = 300;
/** Longest id of the org's (errorId, X-Okta-Request-Id) quoted; Okta's are about 25 characters. */
const MAX_QUOTED_ID_LENGTH = 100;
/** C0 and C1 controls, and the invisible format characters (bidi overrides, zero widths) that can disguise a line. */
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const DPOP_ADVICE =
  'check that oauth.dpop matches the app\'s "Require Demonstrating Proof of Possession (DPoP)" setting and that this host\'s clock is right (a proof carries the time it was made)';

class HttpOktaClient implements OktaClient, OrgTransport {
  readonly sourceId: string;
  readonly origin: string;
  readonly clock: Clock;
  readonly limits: OktaClientLimits;
  private readonly random: () => number;
  private readonly fetchImpl: typeof fetch;
  private readonly userAgent: string;
  private readonly auth: Authenticator;
  private readonly logsGate: RateLimitGate;

  constructor(source: SourceConfig, options: OktaClientOptions) {
    this.sourceId = source.id;
    this.origin = orgOriginOf(source, options.allowLoopback === true);
    this.clock = options.clock;
    this.limits = { ...DEFAULT_OKTA_CLIENT_LIMITS, ...options.limits };
    this.random = options.random ?? Math.random;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
    this.userAgent = options.userAgent ?? 'okta-log-pipeline';
    if (!Number.isInteger(this.limits.pageSize) || this.limits.pageSize < 1 || this.limits.pageSize > 1000) {
      throw new OktaConfigError(source.id, `pageSize must be a whole number from 1 to 1000 (Okta's limit), got ${this.limits.pageSize}`);
    }
    this.logsGate = new RateLimitGate(this.limits.rateLimitReservePercent);
    this.auth = createAuthenticator(source, this);
  }

  async fetchPage(request: PageRequest, options: FetchPageOptions = {}): Promise<LogPage> {
    const context: CallContext = {
      deadline: options.deadline ?? Number.POSITIVE_INFINITY,
      signal: options.signal,
      onRateLimitWait: options.onRateLimitWait,
      onRetry: options.onRetry,
    };
    const url = 'since' in request ? this.firstPageUrl(request.since) : sameOriginUrl(this.sourceId, this.origin, request.nextUrl, this.origin, 'the stored cursor (next link)');
    // A 401, or a 400 carrying a DPoP challenge (RFC 9449 sections 7 and 9: Okta rejects a DPoP
    // proof with 400 and the reason only in WWW-Authenticate, okta/okta-sdk-nodejs issue 453), may be
    // answered once with a fresh access token, a fresh proof or the server's nonce; a second one is
    // final, so a revoked credential or a broken DPoP setup is never retried in a loop.
    for (let attempt = 1; ; attempt++) {
      const sign = await this.auth.prepare(context);
      const outcome = await this.send(
        () => ({ method: 'GET', url, headers: { ...this.baseHeaders(), ...sign('GET', url) } }),
        (response) => this.interpretPage(url, response),
        context,
        this.logsGate,
      );
      if (outcome.page) return outcome.page;
      const refused = outcome.refused;
      const challenge = dpopChallengeOf(refused.headers.get('www-authenticate'));
      if (attempt > 1 || !this.auth.recoverFromUnauthorized(refused, challenge)) {
        const refusal = attempt > 1 ? 'Okta refused the DPoP proof, and the fresh one sent after it' : 'Okta refused the DPoP proof';
        throw new OktaAuthError(this.sourceId, `${this.describeAnswer('GET', url, refused)}: ${challenge ? `${refusal}; ${DPOP_ADVICE}` : this.auth.unauthorizedAdvice}`, {
          status: refused.status,
          errorCode: oktaErrorCode(refused.body) ?? challenge?.error,
        });
      }
    }
  }

  baseHeaders(): Record<string, string> {
    return { accept: 'application/json', 'user-agent': this.userAgent };
  }

  redact(text: string, maxLength = MAX_QUOTED_LENGTH): string {
    // Credentials first (a PEM key spans lines), then control characters (the org's text must not
    // forge a log line or steer a terminal), then credentials again (one split by a control
    // character is whole now), and the bound last, so that it cannot cut a credential in two.
    const cleaned = this.removeSecrets(this.removeSecrets(text).replace(CONTROL_CHARACTERS, ''));
    return cleaned.length > maxLength ? `${cleaned.slice(0, maxLength)}...` : cleaned;
  }

  supportDetails(response: HttpResponse): string {
    // Okta support asks for these first; an error body's errorId and the response's request id.
    const errorId = parseJsonObject(response.body)?.errorId;
    const requestId = response.headers.get('x-okta-request-id');
    const parts = [
      typeof errorId === 'string' && errorId !== '' ? `errorId ${this.redact(errorId, MAX_QUOTED_ID_LENGTH)}` : undefined,
      requestId ? `X-Okta-Request-Id ${this.redact(requestId, MAX_QUOTED_ID_LENGTH)}` : undefined,
    ].filter((part) => part !== undefined);
    return parts.length === 0 ? '' : ` [${parts.join(', ')}]`;
  }

  private removeSecrets(text: string): string {
    let result = text;
    for (const secret of this.auth.secrets()) {
      if (secret.length > 0) result = result.split(secret).join('[redacted]');
    }
    return result;
  }

  async send<T>(build: () => HttpRequest, interpret: (response: HttpResponse) => Interpretation<T>, context: CallContext, gate: RateLimitGate): Promise<T> {
    // 429s and transient failures are bounded separately: waiting out the rate limit is not a
    // sign that the org is down, and must not use up the attempts meant for that.
    let failures = 0;
    let backoffSpent = 0;
    let rateLimited = 0;
    for (;;) {
      await this.waitForGate(gate, context);
      const request = build();
      let failure: string;
      let cause: unknown;
      try {
        const response = await exchange(this.fetchImpl, request, this.limits, context.signal);
        const receivedAt = this.clock.now();
        const snapshot = readRateLimit(response.headers);
        if (response.status === 429 || isAtReserve(snapshot, gate.reservePercent)) {
          gate.resumeAt = receivedAt + resetWaitMs(snapshot, receivedAt, this.limits);
        }
        if (response.status === 429) {
          rateLimited += 1;
          if (rateLimited > this.limits.maxRateLimitRetries) {
            throw new OktaRateLimitError(
              this.sourceId,
              `${this.describeAnswer(request.method, request.url, response)} ${rateLimited} times in a row (maxRateLimitRetries ${this.limits.maxRateLimitRetries}); other integrations may be using the org's quota`,
              gate.resumeAt,
              false,
              { status: 429, errorCode: oktaErrorCode(response.body) },
            );
          }
          continue;
        }
        if (response.status >= 500) {
          failure = this.describeAnswer(request.method, request.url, response);
        } else {
          const interpretation = interpret(response);
          if ('value' in interpretation) return interpretation.value;
          failure = interpretation.retry;
        }
      } catch (error) {
        if (error instanceof ResponseTooLargeError) {
          throw new OktaUnavailableError(this.sourceId, `${request.method} ${describeUrl(request.url)}: ${error.message}; raise maxResponseBytes if the org's events are really that large`);
        }
        if (!(error instanceof TransientExchangeError)) throw error;
        failure = `${request.method} ${describeUrl(request.url)}: ${error.message}`;
        cause = error;
      }
      failures += 1;
      backoffSpent += await this.backoff(failures, backoffSpent, context, failure, cause);
    }
  }

  private firstPageUrl(since: string): string {
    const query = new URLSearchParams({ since, limit: String(this.limits.pageSize), sortOrder: 'ASCENDING' });
    return `${this.origin}${LOGS_PATH}?${query.toString()}`;
  }

  private interpretPage(url: string, response: HttpResponse): Interpretation<{ page: LogPage; refused?: never } | { page?: never; refused: HttpResponse }> {
    this.auth.observe(response);
    const status = response.status;
    if (status === 401 || (status === 400 && dpopChallengeOf(response.headers.get('www-authenticate')) !== undefined)) return { value: { refused: response } };
    if (status === 200) {
      const events = parseJsonArray(response.body);
      if (events === undefined) return { retry: `GET ${describeUrl(url)}: the body is not a complete JSON array (truncated?)` };
      const limit = pageLimitOf(url, this.limits.pageSize);
      const next = parseLinkHeader(response.headers.get('link')).get('next');
      let nextUrl: string;
      if (next !== undefined) {
        nextUrl = sameOriginUrl(this.sourceId, this.origin, next, url, 'the next link');
      } else if (events.length < limit) {
        // Okta always sends a next link for polling requests; without one the same request is
        // repeated next time: possibly a duplicate (deduped on uuid), never a gap.
        nextUrl = url;
      } else {
        throw new OktaUnavailableError(this.sourceId, `GET ${describeUrl(url)} answered a full page without a next link; cannot continue without skipping events`);
      }
      return { value: { page: { url, events, nextUrl, caughtUp: events.length < limit } } };
    }
    const answer = this.describeAnswer('GET', url, response);
    const details = { status, errorCode: oktaErrorCode(response.body) };
    if (status === 400) throw new OktaBadRequestError(this.sourceId, `${answer}: Okta refused the request's parameters`, details);
    if (status === 403) {
      throw new OktaPermissionError(this.sourceId, `${answer}: the credential may not read the System Log; grant its admin the Read-only Administrator role (or the app the okta.logs.read scope)`, details);
    }
    if (status === 404) throw new OktaConfigError(this.sourceId, `${answer}: no System Log API at this origin; check the source's domain`, details);
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      const target = location && URL.canParse(location, url) ? new URL(location, url).origin : 'an unknown location';
      throw new OktaUnavailableError(this.sourceId, `${answer} redirecting to ${target}; redirects are not followed so the credential stays on the org's origin`, details);
    }
    throw new OktaUnavailableError(this.sourceId, answer, details);
  }

  private async waitForGate(gate: RateLimitGate, context: CallContext): Promise<void> {
    const wait = gate.resumeAt - this.clock.now();
    if (wait <= 0) return;
    if (gate.resumeAt > context.deadline) {
      throw new OktaRateLimitError(
        this.sourceId,
        `the org's rate limit is at the reserve kept for other integrations (or exhausted); its reset is ${Math.ceil(wait / 1000)} s away, after this run's deadline, so pulling continues in a later run`,
        gate.resumeAt,
        true,
      );
    }
    context.onRateLimitWait?.(wait);
    await this.clock.sleep(wait);
    context.signal?.throwIfAborted();
  }

  /** Waits before another attempt (exponential backoff, equal jitter) or gives up; returns the wait. */
  private async backoff(failures: number, spent: number, context: CallContext, failure: string, cause: unknown): Promise<number> {
    const giveUp = (why: string): never => {
      throw new OktaUnavailableError(this.sourceId, `${failure}; gave up after ${failures} failed attempt(s): ${why}`, cause === undefined ? {} : { cause });
    };
    if (failures >= this.limits.maxAttempts) giveUp(`maxAttempts is ${this.limits.maxAttempts}`);
    const ceiling = Math.min(this.limits.maxBackoffMs, this.limits.baseBackoffMs * 2 ** (failures - 1));
    // Half fixed, half random: retries of many sources spread out, yet each still backs off.
    const delay = Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
    if (spent + delay > this.limits.retryBudgetMs) giveUp(`the retry budget of ${this.limits.retryBudgetMs} ms (retryBudgetMs) is spent`);
    if (this.clock.now() + delay > context.deadline) giveUp('the run deadline comes before the next attempt');
    context.onRetry?.(failure);
    await this.clock.sleep(delay);
    context.signal?.throwIfAborted();
    return delay;
  }

  /**
   * "GET https://org/api/v1/logs answered 401 E0000011 (Invalid token provided) [errorId oae..,
   * X-Okta-Request-Id ..]", or for a DPoP rejection, whose body is empty, the challenge's error and
   * description; everything the org wrote redacted and bounded.
   */
  private describeAnswer(method: string, url: string, response: HttpResponse): string {
    const challenge = dpopChallengeOf(response.headers.get('www-authenticate'));
    const code = oktaErrorCode(response.body) ?? challenge?.error;
    const summary = oktaErrorSummary(response.body) ?? challenge?.description;
    const detail = [code, summary === undefined || summary === '' ? undefined : `(${this.redact(summary)})`].filter((part) => part !== undefined).join(' ');
    return `${method} ${describeUrl(url)} answered ${response.status}${detail === '' ? '' : ` ${detail}`}${this.supportDetails(response)}`;
  }
}

function parseJsonArray(body: string): unknown[] | undefined {
  try {
    const parsed: unknown = JSON.parse(body);
    return Array.isArray(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** The page size a URL asks for (Okta keeps `limit` in its next links), or the configured one. */
function pageLimitOf(url: string, fallback: number): number {
  const value = new URL(url).searchParams.get('limit');
  const limit = value === null ? Number.NaN : Number(value);
  return Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : fallback;
}

export function oktaErrorCode(body: string): string | undefined {
  const code = parseJsonObject(body)?.errorCode;
  return typeof code === 'string' && /^[A-Za-z0-9_-]{1,40}$/.test(code) ? code : undefined;
}

/** Okta's errorSummary, unredacted and unbounded: `redact` does both before it is shown. */
function oktaErrorSummary(body: string): string | undefined {
  const summary = parseJsonObject(body)?.errorSummary;
  return typeof summary === 'string' && summary !== '' ? summary : undefined;
}
