/** Why Okta rate-limit windows last this long: its per-minute buckets (https://developer.okta.com/docs/reference/rate-limits/). */
export const RATE_LIMIT_WINDOW_MS = 60_000;

/** What one request learns about its bucket: the `X-Rate-Limit-*` values. */
export interface RateLimitState {
  readonly allowed: boolean;
  readonly limit: number;
  readonly remaining: number;
  /** Epoch ms at which the window ends (the header carries it in whole seconds). */
  readonly resetAt: number;
}

/**
 * One per-minute bucket, as Okta runs them: a window opens with the first request after the
 * previous one ended (so windows are NOT aligned to wall-clock minutes), and every request in it,
 * successful or not, spends one unit. A request that finds the bucket empty is refused and spends
 * nothing.
 */
export class RateLimitBucket {
  private windowEndsAt = Number.NEGATIVE_INFINITY;
  private used = 0;

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(`okta emulator: rateLimitPerMinute must be a positive integer, got ${limit}`);
    }
  }

  take(now: number): RateLimitState {
    if (now >= this.windowEndsAt) {
      this.windowEndsAt = now + RATE_LIMIT_WINDOW_MS;
      this.used = 0;
    }
    if (this.used >= this.limit) {
      return { allowed: false, limit: this.limit, remaining: 0, resetAt: this.windowEndsAt };
    }
    this.used += 1;
    return { allowed: true, limit: this.limit, remaining: this.limit - this.used, resetAt: this.windowEndsAt };
  }
}
