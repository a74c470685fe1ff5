/**
 * The one-minute chaos soak, with a fixed seed, as part of `npm test`: the whole local pipeline
 * under every kind of fault (see local/soak), then every invariant checked. Longer runs and other
 * seeds: `npm run soak -- --minutes 5 --seed S`.
 */
import { FAULT_KINDS } from '../../local/soak/fault-plan';
import { runSoak, type SoakReport } from '../../local/soak/soak';

/** A seed whose plan deals every fault kind into the one minute (every seed does for one minute). */
const SEED = 7;
/**
 * Slower than the CLI's 30x: a CPU stall of a second must not stretch into a lease's lifetime of
 * simulated time (95 s is 8 s real at 12x). `npm test` also runs this file on its own, after the
 * other suites, because their load made timing-bound checks (a revoked token met by a run, a
 * relabelled secret settling) miss in 2 of 8 full runs on this 2-core machine.
 */
const RATE = 12;

describe('the chaos soak', () => {
  let report: SoakReport;

  beforeAll(async () => {
    report = await runSoak({ minutes: 1, seed: SEED, rate: RATE });
  }, 180_000);

  it('holds every invariant through a simulated minute of faults', () => {
    // The failing invariants with their details, so a red run says which one broke and why.
    expect(report.invariants.filter((invariant) => !invariant.held).map((invariant) => `${invariant.name}: ${invariant.detail}`)).toEqual([]);
    expect(report.invariantsHeld).toBe(true);
    expect(report.invariants.map((invariant) => invariant.name)).toHaveLength(6);
  });

  it('really delivers, and really injects faults of Okta, AWS and the handler', () => {
    expect(report.eventsServed).toBeGreaterThan(300);
    expect(report.lost).toBe(0);
    expect(report.eventsDelivered).toBeGreaterThanOrEqual(report.eventsServed - 1);
    expect(report.duplicates).toBeLessThanOrEqual(report.duplicatesAllowed);
    const kinds = Object.keys(report.faults);
    // The revocation is applied on schedule; whether a run meets it within the minute (a 401) depends on
    // how the runs raced a loaded CPU, so that is left to the evidence invariant (and to the
    // integration test of a revoked token), not asserted here.
    for (const okta of ['okta-5xx', 'okta-token-revoked', 'okta-late-events', 'okta-invalid-event', 'secret-invalid']) expect(kinds).toContain(okta);
    expect(report.faults['kinesis-faulted-calls']).toBeGreaterThan(0);
    expect(report.faults['dynamodb-faulted-calls']).toBeGreaterThan(0);
    expect(report.invocations.aborted).toBeGreaterThan(0);
    expect(report.invocations.total).toBeGreaterThan(report.invocations.drain);
    // Every kind the plan knows is one the soak can apply.
    expect(FAULT_KINDS.length).toBeGreaterThan(20);
  });
});
