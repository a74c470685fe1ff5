import type { AlertMessage } from '../../lambdas/core/detections/ports';
import { DetectionEngine } from '../../lambdas/core/detections/engine';
import { MemoryStateStore } from '../../lambdas/core/detections/memory-state-store';
import type { DetectionRecord } from '../../lambdas/core/detections/record';
import type { Rule } from '../../lambdas/core/detections/rule';
import { StateConflictError, StateStoreError, type StateStore, type StoredState } from '../../lambdas/core/detections/ports';
import type { JsonObject } from '../../lambdas/core/detections/json';
import { failedLogin, MINUTE, memoryEngine, T0 } from './support';

const SECOND = 1000;

async function alertsOf(engine: DetectionEngine, records: DetectionRecord[]): Promise<{ alerts: AlertMessage[]; updates: AlertMessage[] }> {
  const alerts: AlertMessage[] = [];
  const updates: AlertMessage[] = [];
  for (const record of records) {
    const verdict = await engine.evaluate(record);
    alerts.push(...verdict.alerts);
    updates.push(...verdict.updates);
  }
  return { alerts, updates };
}

describe('threshold and dedup period (Okta.BruteForceLogins: 5 within 15 minutes per user)', () => {
  it('4 failures raise nothing, the 5th raises one alert listing all five', async () => {
    const { engine } = memoryEngine();
    const records = [0, 1, 2, 3].map((minute) => failedLogin(T0 + minute * MINUTE));
    expect((await alertsOf(engine, records)).alerts).toEqual([]);
    const fifth = failedLogin(T0 + 4 * MINUTE);
    const { alerts } = await alertsOf(engine, [fifth]);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({
      status: 'new',
      ruleId: 'Okta.BruteForceLogins',
      severity: 'MEDIUM',
      dedupKey: 'jack@acme.io',
      firstEventTime: new Date(T0).toISOString(),
      lastEventTime: new Date(T0 + 4 * MINUTE).toISOString(),
      eventCount: 5,
      eventUuids: [...records.map((record) => record.uuid), fifth.uuid],
    });
  });

  it('the 5th failure 14:59 after the first alerts; at 15:01 it starts a new period instead', async () => {
    const inside = memoryEngine();
    const first4 = [0, 1, 2, 3].map((minute) => failedLogin(T0 + minute * MINUTE));
    const at1459 = await alertsOf(inside.engine, [...first4, failedLogin(T0 + 14 * MINUTE + 59 * SECOND)]);
    expect(at1459.alerts).toHaveLength(1);

    const outside = memoryEngine();
    const again4 = [0, 1, 2, 3].map((minute) => failedLogin(T0 + minute * MINUTE));
    const at1501 = await alertsOf(outside.engine, [...again4, failedLogin(T0 + 15 * MINUTE + SECOND)]);
    expect(at1501.alerts).toEqual([]);
    // The late failure opened a new period: four more within it reach the threshold again.
    const next4 = [16, 17, 18, 19].map((minute) => failedLogin(T0 + minute * MINUTE));
    const second = await alertsOf(outside.engine, next4);
    expect(second.alerts).toHaveLength(1);
    expect(second.alerts[0].firstEventTime).toBe(new Date(T0 + 15 * MINUTE + SECOND).toISOString());
  });

  it('counts per user across failure reasons, and the title names every reason seen', async () => {
    const { engine } = memoryEngine();
    const reasons = ['INVALID_CREDENTIALS', 'VERIFICATION_ERROR', 'INVALID_CREDENTIALS', 'LOCKED_OUT', 'VERIFICATION_ERROR'];
    const { alerts } = await alertsOf(
      engine,
      reasons.map((reason, index) => failedLogin(T0 + index * MINUTE, 'jack@acme.io', reason)),
    );
    expect(alerts).toHaveLength(1);
    expect(alerts[0].title).toBe(
      'Suspected brute force Okta logins to account jack@acme.io, due to [INVALID_CREDENTIALS, LOCKED_OUT, VERIFICATION_ERROR]',
    );
  });

  it('keeps users apart, and a null reason reads <UNKNOWN_REASON>', async () => {
    const { engine } = memoryEngine();
    const records = [0, 1, 2, 3, 4].flatMap((minute) => [
      failedLogin(T0 + minute * MINUTE, 'a@acme.io', 'INVALID_CREDENTIALS'),
      failedLogin(T0 + minute * MINUTE, 'b@acme.io', 'INVALID_CREDENTIALS', { outcome: { result: 'FAILURE', reason: null } }),
    ]);
    const { alerts } = await alertsOf(engine, records.slice(0, 9));
    expect(alerts.map((alert) => alert.dedupKey)).toEqual(['a@acme.io']);
    const last = await alertsOf(engine, records.slice(9));
    expect(last.alerts.map((alert) => alert.title)).toEqual([
      'Suspected brute force Okta logins to account b@acme.io, due to [<UNKNOWN_REASON>]',
    ]);
  });

  it('later matches in the period join the alert as updates; none raises a new alert', async () => {
    const { engine } = memoryEngine();
    const first5 = [0, 1, 2, 3, 4].map((minute) => failedLogin(T0 + minute * MINUTE));
    const fired = await alertsOf(engine, first5);
    const joins = [5, 10, 14].map((minute) => failedLogin(T0 + minute * MINUTE, 'jack@acme.io', 'LOCKED_OUT'));
    const joined = await alertsOf(engine, joins);
    expect(joined.alerts).toEqual([]);
    expect(joined.updates).toHaveLength(3);
    const last = joined.updates[2];
    expect(last).toMatchObject({ status: 'updated', alertId: fired.alerts[0].alertId, eventCount: 8 });
    expect(last.eventUuids).toHaveLength(8);
    expect(last.title).toContain('[INVALID_CREDENTIALS, LOCKED_OUT]');
  });

  it('a rule with threshold 1 alerts once per period and joins the rest (Okta.APIKeyCreated, 60 minutes)', async () => {
    const { engine } = memoryEngine();
    const keyCreated = (at: number): DetectionRecord => ({
      uuid: `key-${at}`,
      published: new Date(at).toISOString(),
      eventType: 'system.api_token.create',
      actor: { alternateId: 'admin@acme.io', displayName: 'Admin' },
      outcome: { result: 'SUCCESS' },
      target: [{ id: 't', type: 'Token', displayName: 'ci' }],
    });
    const result = await alertsOf(engine, [keyCreated(T0), keyCreated(T0 + 59 * MINUTE), keyCreated(T0 + 60 * MINUTE)]);
    expect(result.alerts.map((alert) => alert.firstEventTime)).toEqual([
      new Date(T0).toISOString(),
      new Date(T0 + 60 * MINUTE).toISOString(),
    ]);
    expect(result.updates.map((update) => update.eventCount)).toEqual([2]);
  });
});

describe('replay and retries', () => {
  const burst = (): DetectionRecord[] => [
    ...[0, 1, 2, 3, 4, 5, 6].map((minute) => failedLogin(T0 + minute * MINUTE)),
    ...[0, 1, 2, 3, 4].map((minute) => failedLogin(T0 + minute * MINUTE, 'other@acme.io')),
  ];

  it('the same records on a fresh state give the same alerts (ids included)', async () => {
    const records = burst();
    const first = await alertsOf(memoryEngine().engine, records);
    const second = await alertsOf(memoryEngine().engine, records);
    expect(first.alerts).toHaveLength(2);
    expect(second).toEqual(first);
  });

  it('a record seen again counts nothing new; the firing record re-emits the same alert', async () => {
    const { engine } = memoryEngine();
    const records = [0, 1, 2, 3, 4].map((minute) => failedLogin(T0 + minute * MINUTE));
    const once = await alertsOf(engine, records);
    const again = await alertsOf(engine, records);
    expect(again.alerts).toEqual(once.alerts);
    expect(again.updates).toEqual([]);
    const sixth = await alertsOf(engine, [failedLogin(T0 + 6 * MINUTE)]);
    expect(sixth.updates[0].eventCount).toBe(6);
  });

  it('a match far out of order is judged on its own and does not disturb the open period', async () => {
    const { engine } = memoryEngine();
    const keyCreated = (at: number, uuid: string): DetectionRecord => ({
      uuid,
      published: new Date(at).toISOString(),
      eventType: 'system.api_token.create',
      actor: { alternateId: 'admin@acme.io', displayName: 'Admin' },
      outcome: { result: 'SUCCESS' },
      target: [{ displayName: 'ci' }],
    });
    const result = await alertsOf(engine, [
      keyCreated(T0, 'now'),
      keyCreated(T0 - 3 * 60 * MINUTE, 'old'),
      keyCreated(T0 + MINUTE, 'joins'),
    ]);
    expect(result.alerts.map((alert) => alert.eventUuids)).toEqual([['now'], ['old']]);
    expect(result.updates.map((update) => update.eventUuids)).toEqual([['now', 'joins']]);
  });
});

describe('records the engine cannot judge', () => {
  it('reports a matching record without a usable time and raises nothing', async () => {
    const { engine } = memoryEngine();
    const verdict = await engine.evaluate({ ...failedLogin(T0), uuid: 'u-1', published: 'redacted' });
    expect(verdict.alerts).toEqual([]);
    expect(verdict.problems).toEqual([expect.stringContaining('record u-1: matches Okta.BruteForceLogins but has no usable event time')]);
  });

  it('ignores a record no rule matches, without touching state', async () => {
    const { engine, state } = memoryEngine();
    const verdict = await engine.evaluate({ eventType: 'user.session.end', published: 'whenever' });
    expect(verdict).toEqual({ alerts: [], updates: [], problems: [] });
    expect(state.size).toBe(0);
  });
});

describe('rule state', () => {
  /** A rule that matches when the same user was seen before and the state still holds them. */
  const seenBefore: Rule = {
    id: 'Test.SeenBefore',
    severity: 'LOW',
    match: (record) => record.eventType === 'test.seen',
    check: {
      key: (record) => String(record.user),
      retentionMs: 60 * MINUTE,
      evaluate: (record, _time, previous) => ({
        ...(previous === undefined ? {} : { findings: { previousUuid: String((previous as { uuid: string }).uuid) } }),
        next: { uuid: String(record.uuid) },
      }),
    },
    title: ({ record, findings }) => `seen ${String(record.user)} again after ${findings.previousUuid}`,
  };
  const seen = (uuid: string, at: number): DetectionRecord => ({
    uuid,
    user: 'u',
    eventType: 'test.seen',
    published: new Date(at).toISOString(),
  });

  it('is visible until its retention (in event time) ends, then reads as absent', async () => {
    const engine = new DetectionEngine({ state: new MemoryStateStore(), rules: [seenBefore] });
    expect((await engine.evaluate(seen('a', T0))).alerts).toEqual([]);
    expect((await engine.evaluate(seen('b', T0 + 59 * MINUTE))).alerts.map((alert) => alert.title)).toEqual(['seen u again after a']);
    // b was stored at T0+59 min and expires at T0+119 min.
    expect((await engine.evaluate(seen('c', T0 + 119 * MINUTE))).alerts).toEqual([]);
  });
});

describe('concurrent writers', () => {
  /** Lets another writer bump the key between this engine's read and its write, `times` times. */
  class RacingStore implements StateStore {
    readonly inner = new MemoryStateStore();
    constructor(private races: number) {}
    get(key: string): Promise<StoredState | undefined> {
      return this.inner.get(key);
    }
    async put(key: string, value: JsonObject, expiresAt: number, expectedVersion: number | undefined): Promise<boolean> {
      if (this.races > 0) {
        this.races -= 1;
        const current = await this.inner.get(key);
        // The other writer's own change, which this engine's decision did not see.
        await this.inner.put(key, { otherWriter: (current?.version ?? 0) + 1 }, expiresAt, current?.version);
      }
      return this.inner.put(key, value, expiresAt, expectedVersion);
    }
  }

  it('re-reads and decides again after a conflicting write', async () => {
    const state = new RacingStore(2);
    const engine = new DetectionEngine({ state });
    const records = [0, 1, 2, 3, 4].map((minute) => failedLogin(T0 + minute * MINUTE));
    const { alerts } = await alertsOf(engine, records);
    expect(alerts).toHaveLength(1);
    expect(alerts[0].eventCount).toBe(5);
  });

  it('gives the record back with StateConflictError when conflicts never stop', async () => {
    const engine = new DetectionEngine({ state: new RacingStore(Number.POSITIVE_INFINITY), limits: { maxStateConflictAttempts: 3 } });
    await expect(engine.evaluate(failedLogin(T0))).rejects.toBeInstanceOf(StateConflictError);
  });

  it('passes a state store failure on, so the record is retried', async () => {
    const failing: StateStore = {
      get: () => Promise.reject(new StateStoreError('detection state table unreachable')),
      put: () => Promise.resolve(true),
    };
    await expect(new DetectionEngine({ state: failing }).evaluate(failedLogin(T0))).rejects.toBeInstanceOf(StateStoreError);
  });
});
