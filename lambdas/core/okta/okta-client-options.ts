import type { Clock } from '../ports';

/**
 * Every bound of the Okta client, in one place, each with the reason for its default.
 * `createOktaClient` fills in whatever the caller leaves out from `DEFAULT_OKTA_CLIENT_LIMITS`.
 */
export interface OktaClientLimits {
  /** Events per page (`limit`). */
  readonly pageSize: number;
  /** Share of the org's per-minute quota (percent of `X-Rate-Limit-Limit`) left for other integrations. */
  readonly rateLimitReservePercent: number;
  /** Shortest wait for a rate-limit reset, used when the reset is already past or unreadable. */
  readonly minRateLimitWaitMs: number;
  /** Longest wait for one rate-limit reset, whatever the headers claim. */
  readonly maxRateLimitWaitMs: number;
  /** Margin added to `Reset - Date`, because both are whole seconds. */
  readonly rateLimitResetMarginMs: number;
  /** 429 answers tolerated for one request before it fails with `OktaRateLimitError`. */
  readonly maxRateLimitRetries: number;
  /** Attempts per request for 5xx, timeouts, truncated bodies and connection errors (first try included). */
  readonly maxAttempts: number;
  /** Total time one request may spend in retry backoff. */
  readonly retryBudgetMs: number;
  /** Ceiling of the first backoff; each retry doubles it up to `maxBackoffMs`, the wait is random below it (full jitter). */
  readonly baseBackoffMs: number;
  readonly maxBackoffMs: number;
  /** Time for one HTTP exchange, headers and body. */
  readonly requestTimeoutMs: number;
  /** Largest response body accepted. */
  readonly maxResponseBytes: number;
  /** An OAuth access token is renewed this long before it expires. */
  readonly tokenRefreshMarginMs: number;
  /** Lifetime of a `private_key_jwt` client assertion. */
  readonly clientAssertionLifetimeSeconds: number;
}

export const DEFAULT_OKTA_CLIENT_LIMITS: OktaClientLimits = {
  // Okta's maximum (`limit` is 0..1000, default 100). Collectors that used the default 100 fell
  // behind on big orgs.
  pageSize: 1000,
  // The bucket is shared with every integration of the org, and running it dry writes
  // system.org.rate_limit.violation events into the customer's own log
  // (https://developer.okta.com/docs/reference/rl-system-log-events/).
  rateLimitReservePercent: 20,
  // A reset in the past must neither crash nor spin (the Filebeat bug); one second is Okta's
  // header resolution, so waiting less could not observe a new window anyway.
  minRateLimitWaitMs: 1_000,
  // Okta's windows are 60 s: a reset further away than that (plus the margin) is garbage.
  maxRateLimitWaitMs: 61_000,
  // Wait `Reset - Date` + 1 s, so a skewed local clock does not matter.
  rateLimitResetMarginMs: 1_000,
  // After three full-window waits something else (a concurrency limit, another integration) is
  // eating the quota; the run gives up and the next minute's run tries again.
  maxRateLimitRetries: 3,
  // Okta's 5xx (E0000009 timeouts) are transient; four tries cover a blip without hammering an outage.
  maxAttempts: 4,
  // Keeps a source that is down from eating the puller's 55 s run budget on retries.
  retryBudgetMs: 20_000,
  baseBackoffMs: 500,
  maxBackoffMs: 8_000,
  // Okta's server-side query timeout is 30 s; 5 s more lets its own 500 arrive instead of our abort.
  requestTimeoutMs: 35_000,
  // 1,000 events of a few KB each is ~5 MB; 32 MiB leaves room for unusually large events while
  // bounding the Lambda's memory against a broken or hostile server.
  maxResponseBytes: 32 * 1024 * 1024,
  // Access tokens live 3,600 s; renewing a minute early avoids a 401 from a token that expires
  // between the check and Okta's reading of it (and absorbs a little clock skew).
  tokenRefreshMarginMs: 60_000,
  // Okta accepts at most one hour; five minutes is plenty for one token call and limits replay.
  clientAssertionLifetimeSeconds: 300,
};

/** How `createOktaClient` builds a client: the clock, host policy, and optional overrides of the bounds. */
export interface OktaClientOptions {
  /** All waits (rate limits, backoff) and all token expiry checks use this clock. */
  readonly clock: Clock;
  /**
   * Accept `http://127.0.0.1:PORT` / `http://localhost:PORT` domains (the CLI and the demo with
   * `OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1`, and tests); the Lambda never sets it.
   * @default false
   */
  readonly allowLoopback?: boolean;
  /** Overrides of `DEFAULT_OKTA_CLIENT_LIMITS`. */
  readonly limits?: Partial<OktaClientLimits>;
  /**
   * Source of randomness for backoff jitter, in [0, 1).
   * @default Math.random
   */
  readonly random?: () => number;
  /**
   * The HTTP implementation.
   * @default globalThis.fetch
   */
  readonly fetch?: typeof fetch;
  /** @default 'okta-log-pipeline' */
  readonly userAgent?: string;
}
