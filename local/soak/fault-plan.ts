/**
 * The faults of a soak, drawn from its seed: the same seed gives the same faults at the same
 * simulated minutes against the same sources (the exact interleaving with the runs still depends
 * on real scheduling, as it would in production).
 */

/** What the soak can do to the pipeline, by where the fault lives. */
export const FAULT_KINDS = [
  // Okta, through the emulated org's fault queue (one entry per affected request).
  'okta-429',
  'okta-concurrency-429',
  'okta-5xx',
  'okta-5xx-burst',
  'okta-503',
  'okta-truncated',
  'okta-reset',
  'okta-slow',
  'okta-late-events',
  'okta-invalid-event',
  'okta-token-revoked',
  'secret-invalid',
  'secret-relabelled',
  // AWS, through the fault proxies in front of kinesalite and dynalite, and lease races.
  'kinesis-partial',
  'kinesis-throttle',
  'dynamodb-error',
  'dynamodb-throttle',
  'lease-race',
  // The handler killed mid-run, as a Lambda timeout or crash would.
  'abort-before-write',
  'abort-between-write-and-save',
  'abort-after-save',
  // A second invocation of the same schedule tick (EventBridge delivers at least once).
  'overlapping-invocation',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface PlannedFault {
  readonly minute: number;
  /** Offset into the minute, simulated ms. */
  readonly atMs: number;
  readonly kind: FaultKind;
  /** Index into the soak's sources. */
  readonly source: number;
  /** How many requests or calls it affects (bursts), or how many events it adds. */
  readonly times: number;
}

/** mulberry32: a small, fast, well-mixed 32-bit PRNG; enough for choosing faults. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Faults per simulated minute: enough that every minute is disturbed, few enough that the pipeline also makes progress. */
const FAULTS_PER_MINUTE = { min: 3, max: 6 } as const;

/**
 * The plan: every kind at least once (the kinds are dealt in a shuffled round, spread over the
 * minutes), then random ones. Faults fall in the first 45 s of a minute, so the last
 * minute's faults still meet a run before the soak drains.
 */
export function planFaults(seed: number, minutes: number, sources: number): PlannedFault[] {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const deck = [...FAULT_KINDS].sort(() => random() - 0.5);
  const plan: PlannedFault[] = [];
  for (let minute = 0; minute < minutes; minute += 1) {
    const drawn = FAULTS_PER_MINUTE.min + Math.floor(random() * (FAULTS_PER_MINUTE.max - FAULTS_PER_MINUTE.min + 1));
    // Short soaks deal the whole deck anyway, so even the one-minute test meets every kind.
    const count = Math.max(drawn, Math.ceil(deck.length / (minutes - minute)));
    for (let index = 0; index < count; index += 1) {
      const kind = deck.length > 0 ? (deck.pop() as FaultKind) : pick(FAULT_KINDS);
      plan.push({
        minute,
        atMs: Math.floor(random() * 45_000),
        kind,
        source: Math.floor(random() * sources),
        times: 1 + Math.floor(random() * 3),
      });
    }
  }
  return plan.sort((a, b) => a.minute - b.minute || a.atMs - b.atMs);
}
