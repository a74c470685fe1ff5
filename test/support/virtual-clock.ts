import type { Clock } from '../../lambdas/core/ports';

/**
 * Virtual time for tests: `sleep` advances the clock at once instead of waiting, so code that
 * waits for a rate-limit reset or a backoff runs instantly and deterministically, and the test can
 * assert on how long it *would* have waited (`slept`).
 */
export class VirtualClock implements Clock {
  /** Every sleep requested, in order, in ms. */
  readonly slept: number[] = [];

  constructor(private current = Date.parse('2026-01-01T00:00:00.000Z')) {}

  now(): number {
    return this.current;
  }

  async sleep(ms: number): Promise<void> {
    const wait = Math.max(0, ms);
    this.slept.push(wait);
    this.current += wait;
  }

  /** Moves time forward without anybody sleeping (e.g. "a minute later, the next run"). */
  advance(ms: number): void {
    this.current += ms;
  }
}
