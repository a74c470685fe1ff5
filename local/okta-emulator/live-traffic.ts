import type { Clock } from '../../lambdas/core/ports';
import type { GenerateOptions, SystemLogEvent } from './traffic';

/** Real ms between two batches of live traffic: often enough that the demo looks alive. */
export const DEFAULT_TRAFFIC_TICK_MS = 1000;

export interface LiveTrafficOptions {
  readonly eventsPerMinute: number;
  /** Decides how many events are due (by `clock.now()`); the ticks themselves are real timers. */
  readonly clock: Clock;
  /** @default 1000 */
  readonly tickMs?: number;
  /** Passed to every `generate` call (mix, late events). */
  readonly generate?: Omit<GenerateOptions, 'at' | 'spreadMs' | 'storedAt'>;
}

export interface LiveTraffic {
  /** Generates every event due by the clock now; returns how many. Ticks call it; tests may too. */
  flush(): number;
  stop(): void;
}

/**
 * Feeds an org at a steady rate: by time `t` after the start, `floor(t * eventsPerMinute / 60 s)`
 * events exist, published over the interval in which they fell due. Counting from the clock (not
 * from ticks) keeps the rate exact under a virtual clock and when timers run late.
 */
export function startTraffic(
  org: { generate(count: number, options?: GenerateOptions): readonly SystemLogEvent[] },
  options: LiveTrafficOptions,
): LiveTraffic {
  if (!(options.eventsPerMinute > 0)) {
    throw new RangeError(`okta emulator traffic: eventsPerMinute must be positive, got ${options.eventsPerMinute}`);
  }
  const start = options.clock.now();
  let emitted = 0;
  let lastFlush = start;
  const flush = (): number => {
    const now = options.clock.now();
    const due = Math.floor(((now - start) * options.eventsPerMinute) / 60_000);
    const count = due - emitted;
    if (count > 0) {
      org.generate(count, { ...options.generate, at: now, spreadMs: now - lastFlush });
      emitted = due;
      lastFlush = now;
    }
    return Math.max(0, count);
  };
  const timer = setInterval(flush, options.tickMs ?? DEFAULT_TRAFFIC_TICK_MS);
  // The traffic alone must not keep a process alive: the org's server decides that.
  timer.unref();
  return {
    flush,
    stop: () => clearInterval(timer),
  };
}
