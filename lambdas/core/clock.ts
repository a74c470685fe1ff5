import type { Clock } from './ports';

/** The real clock, for the Lambda, the CLI and the demo. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};
