import type { Clock } from '../../lambdas/core/ports';

/**
 * A clock that runs `rate` times faster than wall time from a shared starting point, so that
 * simulated minutes of the whole local pipeline (orgs, traffic, puller containers) pass in
 * seconds. Every thread that builds one from the same `ScaledClockSpec` reads the same time,
 * because they share `Date.now()`: leases taken in one emulated container expire in another
 * exactly as they would on the Lambda fleet's common clock.
 */
export interface ScaledClockSpec {
  /** Simulated epoch ms at `realStartMs`. */
  readonly originMs: number;
  /** Wall-clock epoch ms at which the simulated clock read `originMs`. */
  readonly realStartMs: number;
  /** Simulated ms per real ms (1 = real time). */
  readonly rate: number;
}

/** The environment variable through which the local runtime hands a scaled clock to its Lambda containers. */
export const SCALED_CLOCK_ENV = 'OKTA_LOG_PIPELINE_SCALED_CLOCK';

export function scaledClock(spec: ScaledClockSpec): Clock {
  return {
    now: () => spec.originMs + (Date.now() - spec.realStartMs) * spec.rate,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms) / spec.rate)),
  };
}

/** The clock a container was given in `OKTA_LOG_PIPELINE_SCALED_CLOCK` (JSON of a `ScaledClockSpec`), if any. */
export function scaledClockFromEnvironment(value: string | undefined): Clock | undefined {
  if (value === undefined || value === '') return undefined;
  const spec = JSON.parse(value) as Partial<ScaledClockSpec>;
  const { originMs, realStartMs, rate } = spec;
  if (typeof originMs !== 'number' || typeof realStartMs !== 'number' || typeof rate !== 'number' || !(rate > 0)) {
    throw new Error(`${SCALED_CLOCK_ENV} must be JSON {"originMs", "realStartMs", "rate" > 0}`);
  }
  return scaledClock({ originMs, realStartMs, rate });
}
