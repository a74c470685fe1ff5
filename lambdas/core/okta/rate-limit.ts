/** What one response said about the org's rate limit (any field may be missing or unreadable). */
export interface RateLimitSnapshot {
  /** `X-Rate-Limit-Limit`: requests allowed in the current window. */
  readonly limit?: number;
  /** `X-Rate-Limit-Remaining`: requests left in it. */
  readonly remaining?: number;
  /** `X-Rate-Limit-Reset`: when the window resets, UTC epoch seconds. */
  readonly resetSeconds?: number;
  /** The response's `Date` header, epoch ms: the server's "now" against which Reset is measured. */
  readonly serverDateMs?: number;
}

export interface ResetWaitBounds {
  readonly minRateLimitWaitMs: number;
  readonly maxRateLimitWaitMs: number;
  readonly rateLimitResetMarginMs: number;
}

function wholeNumber(value: string | null): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  return /^\d{1,15}$/.test(trimmed) ? Number(trimmed) : undefined;
}

export function readRateLimit(headers: Headers): RateLimitSnapshot {
  const date = headers.get('date');
  const serverDateMs = date === null ? undefined : Date.parse(date);
  return {
    limit: wholeNumber(headers.get('x-rate-limit-limit')),
    remaining: wholeNumber(headers.get('x-rate-limit-remaining')),
    resetSeconds: wholeNumber(headers.get('x-rate-limit-reset')),
    serverDateMs: serverDateMs === undefined || Number.isNaN(serverDateMs) ? undefined : serverDateMs,
  };
}

/**
 * How long after receiving the response to wait for the window to reset: `Reset - Date` + margin,
 * so that a skewed local clock does not matter: `X-Rate-Limit-Reset` is in the server's UTC epoch
 * seconds (https://developer.okta.com/docs/reference/rl-best-practices/). Without a `Date` header the time of
 * receipt stands in for it. A reset in the past or unreadable headers give the minimum wait (never
 * zero: that would spin), and no answer waits longer than the maximum (a window is 60 s).
 */
export function resetWaitMs(snapshot: RateLimitSnapshot, receivedAt: number, bounds: ResetWaitBounds): number {
  if (snapshot.resetSeconds === undefined) return bounds.minRateLimitWaitMs;
  const reference = snapshot.serverDateMs ?? receivedAt;
  const wait = snapshot.resetSeconds * 1000 - reference + bounds.rateLimitResetMarginMs;
  if (!Number.isFinite(wait)) return bounds.minRateLimitWaitMs;
  return Math.min(bounds.maxRateLimitWaitMs, Math.max(bounds.minRateLimitWaitMs, wait));
}

/**
 * True when the requests left in the window are down to the reserve kept for the org's other
 * integrations (a percentage of the limit, rounded up so that a small limit still keeps one).
 */
export function isAtReserve(snapshot: RateLimitSnapshot, reservePercent: number): boolean {
  if (snapshot.remaining === undefined) return false;
  const reserve = snapshot.limit === undefined ? 0 : Math.ceil((snapshot.limit * reservePercent) / 100);
  return snapshot.remaining <= reserve;
}
