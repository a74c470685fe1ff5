/** Exponential backoff bounds: the first wait's ceiling, doubling per retry up to the cap. */
export interface BackoffDelays {
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

/** Retry bounds for writes whose partial failures we retry ourselves (Kinesis entries). */
export interface BackoffPolicy extends BackoffDelays {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
}

/**
 * The wait before retry number `retry` (1 for the first retry): exponential backoff with full
 * jitter, a random wait from 0 up to `min(maxDelayMs, baseDelayMs * 2^(retry-1))`. Full jitter is
 * what the AWS Architecture Blog's "Exponential Backoff And Jitter" recommends
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/): of its jittered
 * variants, equal jitter did more work and took longer, and no jitter at all retries in lockstep,
 * which is how many pullers throttled at once would keep colliding. Every retry loop of the
 * pipeline (Okta requests, Kinesis entries, DynamoDB unprocessed keys) waits this long.
 *
 * @param random in [0, 1): injected, so that a test with a VirtualClock pins every wait.
 */
export function backoffDelayMs(delays: BackoffDelays, retry: number, random: () => number): number {
  const ceiling = Math.min(delays.maxDelayMs, delays.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.floor(random() * ceiling);
}
