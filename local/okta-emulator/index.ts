/**
 * An emulated Okta org: one loopback HTTP server that speaks the System Log API the way
 * Okta documents it (https://developer.okta.com/docs/reference/system-log-query/), for the tests,
 * the demo, the soak and the benchmark.
 *
 * ```ts
 * const org = await startOktaOrg({ clock, rateLimitPerMinute: 60, seed: 7 });
 * org.generate(500);                                    // realistic traffic, stored now
 * await fetch(`${org.origin}/api/v1/logs?since=...`, { headers: { authorization: `SSWS ${org.apiToken}` } });
 * org.inject('server-error', 2);                        // the next two /api/v1/logs requests fail
 * await org.close();
 * ```
 *
 * What it does, and where it follows the real API rather than a simpler model:
 * - `GET /api/v1/logs`
 *   - polling requests (no `until`, ascending) walk the storage order; `since` bounds the
 *     *storage* time, as Okta documents for polling ("persistence time for polling queries"), so
 *     events stored late are never skipped by a polling cursor; the `next` link is always present,
 *     also on an empty page, and its `after` is opaque (base64url, bound to this org);
 *   - bounded requests (`until`, or `sortOrder=DESCENDING`) are ordered by `published`, see only
 *     what is stored at the time, and their last page has no `next` link;
 *   - `self` and `next` come as two separate `link` header lines; `limit` 0..maxPageSize, default
 *     100; bad parameters are 400 E0000001, a `since` older than 180 days is 400 E0000053; a
 *     polling `next` link keeps the request's `since` next to `after`, as Okta's do, and `after` wins.
 * - Every response carries `X-Okta-Request-Id`, `X-Rate-Limit-Limit/-Remaining/-Reset` (reset in
 *   epoch seconds, windows of 60 s opened by the first request, not aligned to minutes; 404 and 405
 *   too) and a `Date` from the org's clock; a spent bucket answers a real 429 E0000047. The token
 *   endpoint has a bucket of its own.
 * - Credentials: `Authorization: SSWS <apiToken>`, or an access token of `POST /oauth2/v1/token`
 *   (`Bearer`, or `DPoP` with a proof) for apps registered with `registerOAuthClient`; a wrong,
 *   revoked or expired credential is 401 E0000011, a DPoP proof Okta would not accept is 400 with
 *   an empty body and the reason in `WWW-Authenticate`. Signatures are checked by `jose`. See `oauth.ts`.
 * - Faults (`inject`): see `faults.ts`. Traffic (`generate`, `startTraffic`): see `traffic.ts`.
 * - `requests` records every request: method, path, query, status, auth scheme, fault; never a
 *   credential (the token endpoint's form body is not recorded at all).
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../../lambdas/core/ports';
import { systemClock } from '../../lambdas/core/clock';
import { badParameter, invalidToken, oktaError, rateLimited, type ErrorAnswer } from './errors';
import { EventStore, type BoundedKey, type OktaEvent, type SortOrder } from './event-store';
import { DEFAULT_FOREIGN_ORIGIN, FaultQueue, faultName, type Fault } from './faults';
import { OAuthAuthority, type OAuthClientRegistration } from './oauth';
import { RateLimitBucket, RATE_LIMIT_WINDOW_MS, type RateLimitState } from './rate-limit';
import { spreadTimes, TrafficGenerator, type GenerateOptions, type SystemLogEvent } from './traffic';
import { parseIsoInstant } from '../../lambdas/core/iso-instant';

export type { OktaEvent } from './event-store';
export type { Fault } from './faults';
export type { OAuthClientRegistration } from './oauth';
export { TrafficGenerator, type GenerateOptions, type SystemLogEvent, type TrafficMix } from './traffic';
export { startTraffic, type LiveTraffic } from './live-traffic';

/** The plan limit of Okta Workforce orgs on `/api/v1/logs` (https://developer.okta.com/docs/reference/rl-global-mgmt/). */
export const DEFAULT_RATE_LIMIT_PER_MINUTE = 120;
/** Okta's largest page. */
export const DEFAULT_MAX_PAGE_SIZE = 1000;
/** Okta's page size when `limit` is absent. */
export const DEFAULT_PAGE_SIZE = 100;
/** Okta's default concurrency limit per org. */
export const DEFAULT_CONCURRENCY_LIMIT = 75;
/** Okta refuses a `since` further back than this (E0000053). */
export const MAX_SINCE_AGE_MS = 180 * 24 * 60 * 60 * 1000;
/** A bounded request without `since` starts this long before its `until`. */
export const DEFAULT_BOUNDED_SPAN_MS = 7 * 24 * 60 * 60 * 1000;
/** `generate` publishes a batch over the last minute: one pull's worth of traffic. */
export const DEFAULT_GENERATE_SPREAD_MS = 60_000;
/** How far before their neighbours late events are published: Okta's pipeline delays are minutes. */
export const DEFAULT_LATE_BY_MS = 10 * 60_000;

export interface OktaOrgOptions {
  /** Time of the org (`Date` header, rate-limit windows, token expiry). @default systemClock */
  readonly clock?: Clock;
  /** `X-Rate-Limit-Limit` of `/api/v1/logs` (and of the token endpoint). @default 120 */
  readonly rateLimitPerMinute?: number;
  /** The SSWS API token. @default a random 42-character token */
  readonly apiToken?: string;
  /** Largest accepted `limit`. @default 1000 */
  readonly maxPageSize?: number;
  /** Simultaneous `/api/v1/logs` requests before a concurrency 429. @default 75 */
  readonly concurrencyLimit?: number;
  /** Seed of the traffic generator, for reproducible events. @default 1 */
  readonly seed?: number;
  /** Port on 127.0.0.1. @default 0 (a free port: tests run in parallel) */
  readonly port?: number;
}

/** How a request authenticated (never the credential itself). */
export type AuthScheme = 'SSWS' | 'Bearer' | 'DPoP' | 'none' | 'other';

/** One request the org received. */
export interface RequestRecord {
  readonly method: string;
  readonly path: string;
  /** The query parameters (no credential is ever sent in a query). */
  readonly query: Readonly<Record<string, string>>;
  /** HTTP status sent; 0 when the connection was reset before any answer. */
  readonly status: number;
  readonly authScheme: AuthScheme;
  /** Arrival time by the org's clock, epoch ms. */
  readonly at: number;
  /** The injected fault this request met, if any. */
  readonly fault?: string;
}

export interface EmulatedOrg {
  /** `http://127.0.0.1:PORT`: the org's domain. */
  readonly origin: string;
  readonly apiToken: string;
  /** Stores events (verbatim, valid or not) at `storedAt` (default: now by the org's clock; a future time stores them then). */
  addEvents(events: readonly OktaEvent[], options?: { readonly storedAt?: number }): void;
  /** Generates `count` realistic events (seeded), stores them, and returns them in storage order. */
  generate(count: number, options?: GenerateOptions): SystemLogEvent[];
  /** Every event stored so far, in storage order. */
  storedEvents(): readonly OktaEvent[];
  /** Makes the API token invalid (401 E0000011) until `restoreToken`. */
  revokeToken(): void;
  restoreToken(): void;
  /**
   * An admin creating a new API token and revoking the old one: `apiToken` becomes the new token
   * (returned), and the old one is refused from now on.
   */
  rotateToken(): string;
  /** `origin` + `/oauth2/v1/token`: the token endpoint, and the `aud` of client assertions. */
  readonly tokenUrl: string;
  /** Registers an OAuth 2.0 service app (private_key_jwt; DPoP when `dpop`), granted `okta.logs.read`. */
  registerOAuthClient(client: OAuthClientRegistration): void;
  /** Invalidates every access token issued so far (401 E0000011 until the client fetches a new one). */
  revokeAccessTokens(): void;
  /**
   * From now on a DPoP proof at `/api/v1/logs` must carry the resource server's nonce: one without
   * it is answered 401 `use_dpop_nonce` with the nonce in `DPoP-Nonce` (RFC 9449 section 9).
   */
  requireResourceNonce(): void;
  /** Applies `fault` to the next `times` (default 1) `/api/v1/logs` requests. */
  inject(fault: Fault, times?: number): void;
  /** Drops faults not yet applied. */
  clearFaults(): void;
  readonly requests: ReadonlyArray<RequestRecord>;
  /** `/api/v1/logs` requests received and not yet answered (e.g. held by a slow fault). */
  readonly inFlight: number;
  close(): Promise<void>;
}

const LOGS_PATH = '/api/v1/logs';
const TOKEN_PATH = '/oauth2/v1/token';
/** A token request is a short form; anything larger is refused rather than buffered. */
const MAX_TOKEN_REQUEST_BYTES = 64 * 1024;

/** What one request to `/api/v1/logs` asks for, after validation. */
type LogsQuery =
  | { readonly kind: 'polling'; readonly limit: number; readonly afterIndex: number }
  | {
      readonly kind: 'bounded';
      readonly limit: number;
      readonly since: number;
      readonly until: number;
      readonly order: SortOrder;
      readonly after?: BoundedKey;
    };

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: Record<string, string | string[]>;
}

/** Starts an emulated org on 127.0.0.1 and a free port. */
export async function startOktaOrg(options: OktaOrgOptions = {}): Promise<EmulatedOrg> {
  const org = new OktaOrgServer(options);
  await org.listen(options.port ?? 0);
  return org;
}

class OktaOrgServer implements EmulatedOrg {
  /** Changes only by `rotateToken`. */
  apiToken: string;
  readonly requests: RequestRecord[] = [];
  /**
   * When each request arrived: it is recorded only once answered, which for a slow answer is
   * long after, and an observer must be able to tell which client (e.g. a since-killed one) sent it.
   */
  private readonly arrivals = new WeakMap<IncomingMessage, number>();
  private origin_ = '';
  private readonly clock: Clock;
  private readonly maxPageSize: number;
  private readonly concurrencyLimit: number;
  private readonly store = new EventStore();
  private readonly faults = new FaultQueue();
  private readonly logsBucket: RateLimitBucket;
  /** Okta limits the token endpoint separately from the System Log. */
  private readonly tokenBucket: RateLimitBucket;
  /** Every other path (answered 404) has a bucket of its own too, as Okta's other endpoints do. */
  private readonly otherBucket: RateLimitBucket;
  private readonly oauth: OAuthAuthority;
  /** Cursors carry this, so that a cursor of another org (or another run) is refused, not misread. */
  private readonly cursorTag = randomBytes(6).toString('base64url');
  private readonly server: Server;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly traffic: TrafficGenerator;
  private tokenRevoked = false;
  private inFlight_ = 0;

  constructor(options: OktaOrgOptions) {
    this.clock = options.clock ?? systemClock;
    this.apiToken = options.apiToken ?? randomApiToken();
    this.maxPageSize = options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE;
    this.concurrencyLimit = options.concurrencyLimit ?? DEFAULT_CONCURRENCY_LIMIT;
    this.logsBucket = new RateLimitBucket(options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE);
    this.tokenBucket = new RateLimitBucket(options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE);
    this.otherBucket = new RateLimitBucket(options.rateLimitPerMinute ?? DEFAULT_RATE_LIMIT_PER_MINUTE);
    this.oauth = new OAuthAuthority(this.clock, () => this.tokenUrl);
    this.traffic = new TrafficGenerator(options.seed ?? 1);
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        this.send(req, res, this.json(oktaError(500, 'E0000009', `Internal Server Error: ${message}`)));
      });
    });
  }

  get origin(): string {
    return this.origin_;
  }

  get inFlight(): number {
    return this.inFlight_;
  }

  get tokenUrl(): string {
    return `${this.origin_}${TOKEN_PATH}`;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    const address = this.server.address() as AddressInfo;
    this.origin_ = `http://127.0.0.1:${address.port}`;
  }

  addEvents(events: readonly OktaEvent[], options: { readonly storedAt?: number } = {}): void {
    const now = this.clock.now();
    this.store.add(events, options.storedAt ?? now, now);
  }

  generate(count: number, options: GenerateOptions = {}): SystemLogEvent[] {
    const now = this.clock.now();
    const times = spreadTimes(count, options.at ?? now, options.spreadMs ?? DEFAULT_GENERATE_SPREAD_MS);
    const lateBy = options.lateByMs ?? DEFAULT_LATE_BY_MS;
    const late = new Set((options.lateFraction ?? 0) > 0 ? this.traffic.sample(count, options.lateFraction ?? 0) : []);
    const events = this.traffic.next(
      times.map((time, i) => (late.has(i) ? time - lateBy : time)),
      options.mix,
    );
    this.store.add(events, options.storedAt ?? now, now);
    return events;
  }

  storedEvents(): readonly OktaEvent[] {
    return this.store.stored(this.clock.now());
  }

  revokeToken(): void {
    this.tokenRevoked = true;
  }

  restoreToken(): void {
    this.tokenRevoked = false;
  }

  rotateToken(): string {
    this.apiToken = randomApiToken();
    this.tokenRevoked = false;
    return this.apiToken;
  }

  registerOAuthClient(client: OAuthClientRegistration): void {
    this.oauth.register(client);
  }

  revokeAccessTokens(): void {
    this.oauth.revokeAccessTokens();
  }

  requireResourceNonce(): void {
    this.oauth.requireResourceNonce();
  }

  inject(fault: Fault, times = 1): void {
    this.faults.add(fault, times);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  async close(): Promise<void> {
    for (const timer of this.timers) {
      clearTimeout(timer);
    }
    this.timers.clear();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.arrivals.set(req, this.clock.now());
    const url = new URL(req.url ?? '/', this.origin);
    if (url.pathname === TOKEN_PATH) {
      await this.handleToken(req, res);
      return;
    }
    if (url.pathname !== LOGS_PATH) {
      const bucket = this.otherBucket.take(this.clock.now());
      this.send(
        req,
        res,
        bucket.allowed
          ? this.json(oktaError(404, 'E0000007', `Not found: Resource not found: ${url.pathname} (Request)`), bucket)
          : this.json(rateLimited(), bucket),
      );
      return;
    }
    if (req.method !== 'GET') {
      const bucket = this.logsBucket.take(this.clock.now());
      this.send(
        req,
        res,
        bucket.allowed
          ? this.json(oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method'), bucket)
          : this.json(rateLimited(), bucket),
      );
      return;
    }
    this.inFlight_ += 1;
    res.once('close', () => {
      this.inFlight_ -= 1;
    });
    await this.handleLogs(req, res, url);
  }

  private async handleLogs(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const now = this.clock.now();
    if (this.inFlight_ > this.concurrencyLimit) {
      this.send(req, res, this.concurrencyAnswer(now));
      return;
    }
    const bucket = this.logsBucket.take(now);
    if (!bucket.allowed) {
      this.send(req, res, this.json(rateLimited(), bucket));
      return;
    }
    const fault = this.faults.take();
    const name = fault === undefined ? undefined : faultName(fault);
    if (fault !== undefined && typeof fault !== 'string' && fault.kind === 'slow') {
      await this.delay(fault.ms, fault.via ?? 'timer', res);
      if (res.destroyed) {
        this.record(req, 0, name);
        return;
      }
    }
    switch (fault) {
      case 'server-error':
        this.send(req, res, this.json(oktaError(500, 'E0000009', 'Internal Server Error'), bucket), name);
        return;
      case 'unavailable':
        this.send(req, res, this.unavailableAnswer(bucket), name);
        return;
      case 'forbidden':
        this.send(
          req,
          res,
          this.json(oktaError(403, 'E0000006', 'You do not have permission to perform the requested action'), bucket),
          name,
        );
        return;
      case 'rate-limit':
        this.send(req, res, this.json(rateLimited(), { ...bucket, remaining: 0 }), name);
        return;
      case 'concurrency-limit':
        this.send(req, res, this.concurrencyAnswer(now), name);
        return;
      case 'connection-reset':
        this.record(req, 0, name);
        req.socket.destroy();
        return;
      case 'dpop-proof-rejected':
        this.send(
          req,
          res,
          this.json(this.oauth.dpopRejection(`${this.origin}${url.pathname}`, 'The DPoP proof JWT has already been used.'), bucket),
          name,
        );
        return;
      // Faults that shape the answer to an authenticated request (and the object faults: a slow
      // answer waited above, a foreign next link is written into the page): applied below.
      case 'foreign-next-link':
      case 'truncated-body':
      case undefined:
        break;
    }
    const denied = await this.authenticate(req, url);
    if (denied !== undefined) {
      this.send(req, res, this.json(denied, bucket), name);
      return;
    }
    const query = this.parseLogsQuery(url, now);
    if ('status' in query) {
      this.send(req, res, this.json(query, bucket), name);
      return;
    }
    const page = this.page(query, url, now);
    const foreignOrigin =
      fault === 'foreign-next-link'
        ? DEFAULT_FOREIGN_ORIGIN
        : typeof fault === 'object' && fault.kind === 'foreign-next-link'
          ? fault.origin
          : undefined;
    const links = [`<${this.origin}${url.pathname}${url.search}>; rel="self"`];
    if (page.next !== undefined) {
      links.push(`<${foreignOrigin ?? this.origin}${LOGS_PATH}?${page.next}>; rel="next"`);
    }
    const answer: Answer = {
      status: 200,
      body: `[${page.json.join(',')}]`,
      headers: { ...this.rateLimitHeaders(bucket), 'content-type': 'application/json', link: links },
    };
    if (fault === 'truncated-body') {
      this.sendTruncated(req, res, answer, name);
      return;
    }
    this.send(req, res, answer, name);
  }

  private async handleToken(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const bucket = this.tokenBucket.take(this.clock.now());
    if (bucket.allowed && req.method !== 'POST') {
      this.send(req, res, this.json(oktaError(405, 'E0000022', 'The endpoint does not support the provided HTTP method'), bucket));
      return;
    }
    if (!bucket.allowed) {
      this.send(req, res, this.json(rateLimited(), bucket));
      return;
    }
    const body = await readBody(req, MAX_TOKEN_REQUEST_BYTES);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    const answer =
      body === undefined || contentType !== 'application/x-www-form-urlencoded'
        ? {
            status: 400,
            body: { error: 'invalid_request', error_description: 'Send a form (application/x-www-form-urlencoded) of at most 64 KiB.' },
          }
        : await this.oauth.token(new URLSearchParams(body), headerValue(req.headers.dpop));
    this.send(req, res, {
      status: answer.status,
      body: JSON.stringify(answer.body),
      headers: { ...this.rateLimitHeaders(bucket), 'content-type': 'application/json', 'cache-control': 'no-store', ...answer.headers },
    });
  }

  private page(query: LogsQuery, url: URL, now: number): { json: readonly string[]; next?: string } {
    const limit = String(query.limit);
    if (query.kind === 'polling') {
      const page = this.store.poll(query.afterIndex, query.limit, now);
      // Okta's polling next links keep the request's since next to after (its docs' example, and
      // public collectors' fixtures: since=...&limit=1000&sortOrder=ASCENDING&after=...); after wins.
      const since = url.searchParams.get('since');
      const next = new URLSearchParams({
        ...(since === null ? {} : { since }),
        limit,
        sortOrder: 'ASCENDING',
        after: this.encodeCursor(`p:${page.lastIndex}`),
      });
      return { json: page.json, next: next.toString() };
    }
    const page = this.store.bounded(query.since, query.until, query.order, query.limit, now, query.after);
    if (!page.more) {
      return { json: page.json };
    }
    const next = new URLSearchParams({
      since: url.searchParams.get('since') ?? new Date(query.since).toISOString(),
      until: url.searchParams.get('until') ?? new Date(query.until).toISOString(),
      limit,
      sortOrder: query.order,
    });
    const key = page.lastKey ?? query.after;
    if (key !== undefined) {
      next.set('after', this.encodeCursor(`b:${key.publishedAt}:${key.seq}`));
    }
    return { json: page.json, next: next.toString() };
  }

  private parseLogsQuery(url: URL, now: number): LogsQuery | ErrorAnswer {
    const params = url.searchParams;
    const limitText = params.get('limit');
    const limit = limitText === null ? DEFAULT_PAGE_SIZE : Number(limitText);
    if (limitText !== null && (!/^\d+$/.test(limitText) || limit > this.maxPageSize)) {
      return badParameter('limit', `limit: must be an integer between 0 and ${this.maxPageSize}, got "${limitText}"`);
    }
    const orderText = params.get('sortOrder') ?? 'ASCENDING';
    if (orderText !== 'ASCENDING' && orderText !== 'DESCENDING') {
      return badParameter('sortOrder', `sortOrder: must be ASCENDING or DESCENDING, got "${orderText}"`);
    }
    const since = parseDate(params.get('since'));
    const until = parseDate(params.get('until'));
    if (since === 'invalid') {
      return badParameter('since', `since: not an ISO 8601 date: "${params.get('since')}"`);
    }
    if (until === 'invalid') {
      return badParameter('until', `until: not an ISO 8601 date: "${params.get('until')}"`);
    }
    if (since !== undefined && since < now - MAX_SINCE_AGE_MS) {
      return oktaError(400, 'E0000053', "Invalid date. 'since' must be later than 180 days ago.", [
        `since: ${params.get('since')} is more than 180 days ago`,
      ]);
    }
    const afterText = params.get('after');
    const cursor = afterText === null ? undefined : this.decodeCursor(afterText);
    if (cursor === 'invalid') {
      return badParameter('after', 'after: not a cursor of this org; use the next link as returned');
    }
    if (until === undefined && orderText === 'ASCENDING') {
      if (cursor !== undefined && cursor.kind !== 'polling') {
        return badParameter('after', 'after: a bounded cursor cannot continue a polling request');
      }
      const afterIndex = cursor?.index ?? this.store.indexBefore(since ?? now - DEFAULT_BOUNDED_SPAN_MS, now);
      return { kind: 'polling', limit, afterIndex };
    }
    const end = until ?? now;
    const start = since ?? end - DEFAULT_BOUNDED_SPAN_MS;
    if (start > end) {
      return badParameter('until', 'until: must not be earlier than since');
    }
    if (cursor !== undefined && cursor.kind !== 'bounded') {
      return badParameter('after', 'after: a polling cursor cannot continue a bounded request');
    }
    return { kind: 'bounded', limit, since: start, until: end, order: orderText, ...(cursor === undefined ? {} : { after: cursor.key }) };
  }

  private encodeCursor(position: string): string {
    return Buffer.from(`${this.cursorTag}:${position}`).toString('base64url');
  }

  private decodeCursor(text: string): { kind: 'polling'; index: number } | { kind: 'bounded'; key: BoundedKey } | 'invalid' {
    const parts = Buffer.from(text, 'base64url').toString('utf8').split(':');
    if (parts[0] !== this.cursorTag) {
      return 'invalid';
    }
    const numbers = parts.slice(2).map(Number);
    if (numbers.some((value) => !Number.isFinite(value))) {
      return 'invalid';
    }
    if (parts[1] === 'p' && numbers.length === 1) {
      return { kind: 'polling', index: numbers[0] };
    }
    if (parts[1] === 'b' && numbers.length === 2) {
      return { kind: 'bounded', key: { publishedAt: numbers[0], seq: numbers[1] } };
    }
    return 'invalid';
  }

  private async authenticate(req: IncomingMessage, url: URL): Promise<ErrorAnswer | undefined> {
    const { scheme, credential } = splitAuthorization(req.headers.authorization);
    if (scheme === 'SSWS') {
      return !this.tokenRevoked && sameSecret(credential, this.apiToken) ? undefined : invalidToken();
    }
    if (scheme === 'Bearer' || scheme === 'DPoP') {
      return this.oauth.authorize({
        scheme,
        token: credential,
        dpopProof: headerValue(req.headers.dpop),
        method: req.method ?? 'GET',
        uri: `${this.origin}${url.pathname}`,
      });
    }
    return invalidToken();
  }

  private concurrencyAnswer(now: number): Answer {
    // Okta zeroes Limit and Remaining on a concurrency 429 and only estimates the reset.
    return this.json(rateLimited(), { allowed: false, limit: 0, remaining: 0, resetAt: now + RATE_LIMIT_WINDOW_MS });
  }

  private unavailableAnswer(bucket: RateLimitState): Answer {
    return {
      status: 503,
      body: '<html><body><h1>503 Service Unavailable</h1>No server is available to handle this request.</body></html>',
      headers: { ...this.rateLimitHeaders(bucket), 'content-type': 'text/html' },
    };
  }

  private json(error: ErrorAnswer, bucket?: RateLimitState): Answer {
    return {
      status: error.status,
      body: error.body === undefined ? '' : JSON.stringify(error.body),
      headers: {
        ...(bucket === undefined ? {} : this.rateLimitHeaders(bucket)),
        ...(error.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...error.headers,
      },
    };
  }

  private rateLimitHeaders(bucket: RateLimitState): Record<string, string> {
    return {
      'x-rate-limit-limit': String(bucket.limit),
      'x-rate-limit-remaining': String(bucket.remaining),
      // Rounded up: a client that waits until the reset second must find the new window open.
      'x-rate-limit-reset': String(Math.ceil(bucket.resetAt / 1000)),
    };
  }

  private send(req: IncomingMessage, res: ServerResponse, answer: Answer, fault?: string): void {
    this.record(req, answer.status, fault);
    if (res.destroyed || res.headersSent) {
      return;
    }
    res.writeHead(answer.status, {
      ...answer.headers,
      date: new Date(this.clock.now()).toUTCString(),
      'x-okta-request-id': requestId(),
      'content-length': String(Buffer.byteLength(answer.body)),
    });
    res.end(answer.body);
  }

  private sendTruncated(req: IncomingMessage, res: ServerResponse, answer: Answer, fault?: string): void {
    this.record(req, answer.status, fault);
    const body = Buffer.from(answer.body);
    res.writeHead(answer.status, {
      ...answer.headers,
      date: new Date(this.clock.now()).toUTCString(),
      'x-okta-request-id': requestId(),
      'content-length': String(body.length),
    });
    res.write(body.subarray(0, Math.floor(body.length / 2)), () => res.socket?.destroy());
  }

  /** Waits `ms`, or less when the client gives up first (its timeout fired): nobody is left to answer. */
  private delay(ms: number, via: 'timer' | 'clock', res: ServerResponse): Promise<void> {
    if (via === 'clock') {
      return this.clock.sleep(ms);
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.timers.delete(timer);
        res.off('close', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.timers.add(timer);
      res.once('close', done);
    });
  }

  private record(req: IncomingMessage, status: number, fault?: string): void {
    const url = new URL(req.url ?? '/', this.origin);
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status,
      authScheme: splitAuthorization(req.headers.authorization).scheme,
      at: this.arrivals.get(req) ?? this.clock.now(),
      ...(fault === undefined ? {} : { fault }),
    });
  }
}

function splitAuthorization(header: string | undefined): { scheme: AuthScheme; credential: string } {
  if (header === undefined || header.trim() === '') {
    return { scheme: 'none', credential: '' };
  }
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  const credential = space < 0 ? '' : header.slice(space + 1).trim();
  const known: readonly AuthScheme[] = ['SSWS', 'Bearer', 'DPoP'];
  const match = known.find((name) => name.toLowerCase() === scheme.toLowerCase());
  return { scheme: match ?? 'other', credential };
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The request body as text, or undefined when it exceeds `maxBytes` (the rest is not read). */
async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > maxBytes) {
      return undefined;
    }
    chunks.push(buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Compares without leaking through timing how much of a guessed token was right. */
function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Okta's request ids are about 27 letters and digits; support asks for them (X-Okta-Request-Id). */
function requestId(): string {
  return randomBytes(20).toString('base64url').replace(/[-_]/g, 'A').slice(0, 27);
}

/** Okta API tokens are 42 characters starting with `00`. */
function randomApiToken(): string {
  return `00${randomBytes(30).toString('base64url').slice(0, 40)}`;
}

function parseDate(text: string | null): number | undefined | 'invalid' {
  if (text === null) {
    return undefined;
  }
  return parseIsoInstant(text) ?? 'invalid';
}
