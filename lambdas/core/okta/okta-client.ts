import type { Clock, SourceConfig } from '../ports';
import { backoffDelayMs } from '../backoff';
import { createAuthenticator, type Authenticator } from './authenticator';
import {
  ForeignOriginError,
  OktaAuthError,
  OktaBadRequestError,
  OktaConfigError,
  OktaPermissionError,
  OktaRateLimitError,
  OktaUnavailableError,
} from './errors';
import { PageBudget, PageBudgetPreemptedError } from '../memory/page-budget';
import { exchange, ResponseTooLargeError, TransientExchangeError, type HttpRequest, type HttpResponse } from './http-exchange';
import { scanJsonArray, type RawEvent } from './json-array-scanner';
import { parseLinkHeader } from './link-header';
import { DEFAULT_OKTA_CLIENT_LIMITS, type OktaClientLimits, type OktaClientOptions } from './okta-client-options';
import { orgOriginOf, sameOriginUrl } from './org-origin';
import { MAX_ORG_TEXT_LENGTH, safeOrgText } from './org-text';
import { isAtReserve, readRateLimit, resetWaitMs } from './rate-limit';
import { parseJsonObject } from '../json';
import { RateLimitGate, describeUrl, type CallContext, type Interpretation, type OrgTransport } from './transport';
import { dpopChallengeOf } from './www-authenticate';

/** Where a page starts: a polling request from a point in time, or a `next` link Okta returned. */
export type PageRequest = { readonly since: string } | { readonly nextUrl: string };

/** One page of the System Log. */
export interface LogPage {
  /** The URL that was requested. */
  readonly url: string;
  /**
   * The events as Okta sent them, in its order, each still its raw JSON text: the pull core
   * decides which are safe to parse (size, depth).
   */
  readonly events: readonly RawEvent[];
  /**
   * Where the next page starts: Okta's `next` link verbatim (checked to be on the org's origin).
   * This is the cursor to store once the page's events are durable.
   */
  readonly nextUrl: string;
  /** The page held fewer events than its `limit`: Okta has nothing more right now. */
  readonly caughtUp: boolean;
  /** Bytes of the body, counted against the run's page budget until `release`. */
  readonly bytes: number;
  /** Gives the page's bytes back to the budget, once it is delivered or dropped. Idempotent. */
  release(): void;
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
  /**
   * The run's budget of page bytes in flight, shared by every source (and by any page read ahead).
   * @default a budget of this page alone
   */
  readonly pageBudget?: PageBudget;
  /** Called when a page over `maxResponseBytes` is asked for again with this smaller `limit`. */
  readonly onPageSplit?: (limit: number) => void;
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
/** An Okta error code is like `E0000011`; anything longer is cut (after redaction). */
const MAX_ERROR_CODE_LENGTH = 40;
const MAX_URL_TEXT_LENGTH = 200;
/** Our explanation of a refused link is about 250 characters besides the two origins. */
const MAX_FOREIGN_ORIGIN_MESSAGE_LENGTH = 700;
/** Okta's `errorCauses` quoted in a message, at most. */
const MAX_ERROR_CAUSES = 3;
/** Longest id of the org's (errorId, X-Okta-Request-Id) quoted; Okta's are about 25 characters. */
const MAX_QUOTED_ID_LENGTH = 100;
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
    const budget = options.pageBudget ?? new PageBudget(this.limits.maxResponseBytes);
    let url =
      'since' in request
        ? this.firstPageUrl(request.since)
        : this.resumeUrl(this.onOrigin(request.nextUrl, this.origin, 'the stored cursor (next link)'));
    // A page over maxResponseBytes is asked for again with half the events, down to one: a few
    // huge events slow the source down instead of stopping it (an event that alone is too large
    // is handed over cut, to be quarantined, and paging goes on past it).
    for (;;) {
      try {
        return await this.fetchAt(url, budget, context);
      } catch (error) {
        if (!(error instanceof ResponseTooLargeError)) throw error;
        const limit = pageLimitOf(url, this.limits.pageSize);
        if (limit <= 1) return this.oversizedEventPage(url, error);
        url = withLimit(url, Math.floor(limit / 2));
        options.onPageSplit?.(Math.floor(limit / 2));
      }
    }
  }

  private async fetchAt(url: string, budget: PageBudget, context: CallContext): Promise<LogPage> {
    // A 401, or a 400 carrying a DPoP challenge (RFC 9449 sections 7 and 9: Okta rejects a DPoP
    // proof with 400 and the reason only in WWW-Authenticate, okta/okta-sdk-nodejs issue 453), may be
    // answered once with a fresh access token, a fresh proof or the server's nonce; a second one is
    // final, so a revoked credential or a broken DPoP setup is never retried in a loop.
    for (let attempt = 1; ; attempt++) {
      const sign = await this.auth.prepare(context);
      const outcome = await this.send(
        () => ({ method: 'GET', url, headers: { ...this.baseHeaders(), ...sign('GET', url) }, pageBudget: budget }),
        (response) => this.interpretPage(url, response),
        context,
        this.logsGate,
      );
      if (outcome.page) return outcome.page;
      const refused = outcome.refused;
      const challenge = dpopChallengeOf(refused.headers.get('www-authenticate'));
      if (attempt > 1 || !this.auth.recoverFromUnauthorized(refused, challenge)) {
        const refusal = attempt > 1 ? 'Okta refused the DPoP proof, and the fresh one sent after it' : 'Okta refused the DPoP proof';
        throw new OktaAuthError(
          this.sourceId,
          `${this.describeAnswer('GET', url, refused)}: ${challenge ? `${refusal}; ${DPOP_ADVICE}` : this.auth.unauthorizedAdvice}`,
          {
            status: refused.status,
            errorCode:
              this.errorCodeOf(refused.body) ?? (challenge === undefined ? undefined : this.redact(challenge.error, MAX_ERROR_CODE_LENGTH)),
          },
        );
      }
    }
  }

  baseHeaders(): Record<string, string> {
    return { accept: 'application/json', 'user-agent': this.userAgent };
  }

  redact(text: string, maxLength: number = MAX_ORG_TEXT_LENGTH): string {
    return safeOrgText(text, this.auth.secrets(), maxLength);
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

  /** "GET https://org/api/v1/logs": the path of a link comes from the org, so it is redacted too. */
  private where(method: string, url: string): string {
    return `${method} ${this.redact(describeUrl(url), MAX_URL_TEXT_LENGTH)}`;
  }

  /** Okta's `errorCode`, when the body has one: bounded and redacted like any text from the org. */
  private errorCodeOf(body: string): string | undefined {
    const code = oktaErrorField(body, 'errorCode');
    return code === undefined ? undefined : this.redact(code, MAX_ERROR_CODE_LENGTH);
  }

  async send<T>(
    build: () => HttpRequest,
    interpret: (response: HttpResponse) => Interpretation<T>,
    context: CallContext,
    gate: RateLimitGate,
  ): Promise<T> {
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
              { status: 429, errorCode: this.errorCodeOf(response.body) },
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
        // Another page of the run needed the budget more: not the org's failure, ask again.
        if (error instanceof PageBudgetPreemptedError) continue;
        if (!(error instanceof TransientExchangeError)) throw error;
        failure = `${this.where(request.method, request.url)}: ${error.message}`;
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

  private interpretPage(
    url: string,
    response: HttpResponse,
  ): Interpretation<{ page: LogPage; refused?: never } | { page?: never; refused: HttpResponse }> {
    this.auth.observe(response);
    const status = response.status;
    if (status === 401 || (status === 400 && dpopChallengeOf(response.headers.get('www-authenticate')) !== undefined))
      return { value: { refused: response } };
    if (status === 200 && response.pageBody !== undefined) {
      const { chunks, bytes, reservation } = response.pageBody;
      try {
        const limit = pageLimitOf(url, this.limits.pageSize);
        const scanned = scanJsonArray(chunks, limit);
        if ('error' in scanned) {
          reservation.release();
          return { retry: `${this.where('GET', url)}: ${scanned.error}` };
        }
        const events = scanned.events;
        const nextUrl = this.nextUrlOf(url, response.headers, events.length < limit);
        return { value: { page: { url, events, nextUrl, caughtUp: events.length < limit, bytes, release: () => reservation.release() } } };
      } catch (error) {
        reservation.release();
        throw error;
      }
    }
    const answer = this.describeAnswer('GET', url, response);
    const details = { status, errorCode: this.errorCodeOf(response.body) };
    if (status === 400) throw new OktaBadRequestError(this.sourceId, `${answer}: Okta refused the request's parameters`, details);
    if (status === 403) {
      throw new OktaPermissionError(
        this.sourceId,
        `${answer}: the credential may not read the System Log; grant its admin the Read-only Administrator role (or the app the okta.logs.read scope)`,
        details,
      );
    }
    if (status === 404)
      throw new OktaConfigError(this.sourceId, `${answer}: no System Log API at this origin; check the source's domain`, details);
    if (status >= 300 && status < 400) {
      const location = response.headers.get('location');
      const target =
        location && URL.canParse(location, url) ? this.redact(new URL(location, url).origin, MAX_URL_TEXT_LENGTH) : 'an unknown location';
      throw new OktaUnavailableError(
        this.sourceId,
        `${answer} redirecting to ${target}; redirects are not followed so the credential stays on the org's origin`,
        details,
      );
    }
    throw new OktaUnavailableError(this.sourceId, answer, details);
  }

  /**
   * `sameOriginUrl`, with the refused origin made safe to show: a link is the org's text, and its
   * host could be the token itself (`https://<token>.example`).
   */
  private onOrigin(link: string, base: string, what: string): string {
    try {
      return sameOriginUrl(this.sourceId, this.origin, link, base, what);
    } catch (error) {
      if (!(error instanceof ForeignOriginError)) throw error;
      const prefix = `source ${this.sourceId}: `;
      const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      throw new ForeignOriginError(
        this.sourceId,
        this.redact(detail, MAX_FOREIGN_ORIGIN_MESSAGE_LENGTH),
        this.redact(error.foreignOrigin, MAX_URL_TEXT_LENGTH),
      );
    }
  }

  /** Okta's next link, checked to be on the org's origin. */
  private nextUrlOf(url: string, headers: Headers, shortPage: boolean): string {
    const next = parseLinkHeader(headers.get('link')).get('next');
    if (next !== undefined) return this.onOrigin(next, url, 'the next link');
    // Okta always sends a next link for polling requests; without one the same request is
    // repeated next time: possibly a duplicate (deduped on uuid), never a gap.
    if (shortPage) return url;
    throw new OktaUnavailableError(
      this.sourceId,
      `${this.where('GET', url)} answered a full page without a next link; cannot continue without skipping events`,
    );
  }

  /**
   * A page of one event that alone is over `maxResponseBytes`: the event is handed over cut
   * (its first bytes, marked `truncated`) so that it is quarantined and paging goes on.
   */
  private oversizedEventPage(url: string, error: ResponseTooLargeError): LogPage {
    const nextUrl = this.nextUrlOf(url, error.headers, false);
    const { head } = error;
    const event: RawEvent = {
      bytes: head.byteLength,
      depth: 0,
      truncated: true,
      text: () => Buffer.from(head.buffer, head.byteOffset, head.byteLength).toString('utf8'),
      views: () => [head],
    };
    return { url, events: [event], nextUrl, caughtUp: false, bytes: 0, release: () => undefined };
  }

  /**
   * A stored next link asks for the `limit` Okta echoed from the request before; after a split
   * that is a small one. It grows back by doubling, page after page, up to `pageSize`.
   */
  private resumeUrl(url: string): string {
    const limit = pageLimitOf(url, this.limits.pageSize);
    return limit < this.limits.pageSize ? withLimit(url, Math.min(this.limits.pageSize, limit * 2)) : url;
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

  /** Waits before another attempt (exponential backoff, full jitter: `backoffDelayMs`) or gives up; returns the wait. */
  private async backoff(failures: number, spent: number, context: CallContext, failure: string, cause: unknown): Promise<number> {
    const giveUp = (why: string): never => {
      throw new OktaUnavailableError(
        this.sourceId,
        `${failure}; gave up after ${failures} failed attempt(s): ${why}`,
        cause === undefined ? {} : { cause },
      );
    };
    if (failures >= this.limits.maxAttempts) giveUp(`maxAttempts is ${this.limits.maxAttempts}`);
    const delay = backoffDelayMs({ baseDelayMs: this.limits.baseBackoffMs, maxDelayMs: this.limits.maxBackoffMs }, failures, this.random);
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
   * description: every part the org wrote (code, summary, causes, ids) bounded, stripped of
   * control characters and redacted.
   */
  private describeAnswer(method: string, url: string, response: HttpResponse): string {
    const challenge = dpopChallengeOf(response.headers.get('www-authenticate'));
    const code =
      this.errorCodeOf(response.body) ?? (challenge === undefined ? undefined : this.redact(challenge.error, MAX_ERROR_CODE_LENGTH));
    const summary = oktaErrorField(response.body, 'errorSummary') ?? challenge?.description;
    const causes = oktaErrorCauses(response.body).map((cause) => this.redact(cause));
    const said = [summary === undefined || summary === '' ? undefined : this.redact(summary), ...causes].filter(
      (part): part is string => part !== undefined && part !== '',
    );
    const detail = [code, said.length === 0 ? undefined : `(${said.join('; ')})`].filter((part) => part !== undefined).join(' ');
    return `${this.where(method, url)} answered ${response.status}${detail === '' ? '' : ` ${detail}`}${this.supportDetails(response)}`;
  }
}

/**
 * `url` asking for `limit` events: only the `limit` parameter's value changes (added when it is
 * missing), the rest of Okta's link stays verbatim.
 */
function withLimit(url: string, limit: number): string {
  const hashAt = url.indexOf('#');
  const base = hashAt === -1 ? url : url.slice(0, hashAt);
  const queryAt = base.indexOf('?');
  if (queryAt === -1) return `${base}?limit=${limit}`;
  const path = base.slice(0, queryAt);
  const parameters = base.slice(queryAt + 1).split('&');
  let found = false;
  const rewritten = parameters.map((parameter) => {
    if (!parameter.startsWith('limit=')) return parameter;
    found = true;
    return `limit=${limit}`;
  });
  if (!found) rewritten.push(`limit=${limit}`);
  return `${path}?${rewritten.filter((parameter) => parameter !== '').join('&')}`;
}

/** The page size a URL asks for (Okta keeps `limit` in its next links), or the configured one. */
function pageLimitOf(url: string, fallback: number): number {
  const value = new URL(url).searchParams.get('limit');
  const limit = value === null ? Number.NaN : Number(value);
  return Number.isInteger(limit) && limit >= 1 && limit <= 1000 ? limit : fallback;
}

/** A string field of Okta's error body (`errorCode`, `errorSummary`), raw: pass it through `redact`. */
function oktaErrorField(body: string, field: 'errorCode' | 'errorSummary'): string | undefined {
  const value = parseJsonObject(body)?.[field];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** The `errorSummary` of the first few `errorCauses` (Okta's detail of a 400), raw. */
function oktaErrorCauses(body: string): string[] {
  const causes = parseJsonObject(body)?.errorCauses;
  if (!Array.isArray(causes)) return [];
  return causes
    .slice(0, MAX_ERROR_CAUSES)
    .map((cause: unknown) => (typeof cause === 'object' && cause !== null ? (cause as Record<string, unknown>).errorSummary : undefined))
    .filter((summary): summary is string => typeof summary === 'string' && summary !== '');
}
