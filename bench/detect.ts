/**
 * Bench section `detect`: records per second through all the built-in rules with an in-memory state
 * store, as the Lambda runs them (JSON text in, `runDetectionBatch` in batches, alerts to a
 * publisher that only counts). The records cycle through the rules' own test events with varied
 * uuids, times, users, addresses and places, so that thresholds, dedup groups and the geo state
 * all do real work: about a third of the records match a rule.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import type { AlertPublisher } from '../lambdas/core/detections/ports';
import { DetectionEngine } from '../lambdas/core/detections/engine';
import { MemoryStateStore } from '../lambdas/core/detections/memory-state-store';
import { runDetectionBatch, type BatchItem } from '../lambdas/core/detections/run-batch';
import { DEFAULT_RULES } from '../lambdas/core/detections/rules';
import type { BenchSection } from './section';

/** Enough records that per-run noise averages out, small enough to run in seconds. */
const RECORD_COUNT = 20_000;
/** A Kinesis event source mapping's default batch size. */
const BATCH_SIZE = 100;
/** Timed rounds; the median is reported so that one GC pause does not decide it. */
const ROUNDS = 3;
/** Distinct users: enough that groups and geo state keep many keys, few enough that they repeat. */
const USERS = 500;
const FIXTURES = path.resolve(__dirname, '../test/fixtures/detections');

function ruleEvents(): Array<Record<string, unknown>> {
  return DEFAULT_RULES.flatMap((rule) =>
    readFileSync(path.join(FIXTURES, `${rule.id}.ndjson`), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => (JSON.parse(line) as { event: Record<string, unknown> }).event),
  );
}

/** Events that match no rule, as most of a real log is (sessions ending, app access, MFA). */
const BACKGROUND = ['user.session.end', 'user.authentication.sso', 'app.oauth2.token.grant.access_token', 'user.mfa.factor.verify'];

function benchItems(count: number): BatchItem[] {
  const events = ruleEvents();
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const items: BatchItem[] = [];
  for (let index = 0; index < count; index += 1) {
    const base =
      index % 3 === 0
        ? events[(index / 3) % events.length]
        : { eventType: BACKGROUND[index % BACKGROUND.length], outcome: { result: 'SUCCESS' } };
    const event = structuredClone(base) as Record<string, unknown>;
    const user = index % USERS;
    event.uuid = `bench-${index.toString(16).padStart(8, '0')}`;
    event.published = new Date(start + index * 250).toISOString();
    event.p_event_time = event.published;
    event.p_source_id = 'bench';
    event.actor = { id: `00u${user}`, type: 'User', alternateId: `user${user}@example.com`, displayName: `User ${user}` };
    event.client = {
      ipAddress: `10.0.${(index >> 8) & 255}.${index & 255}`,
      geographicalContext: {
        city: `City ${index % 7}`,
        country: 'Somewhere',
        geolocation: { lat: (index % 7) * 10, lon: (index % 11) * 10 },
      },
    };
    items.push({ id: String(index), data: JSON.stringify(event) });
  }
  return items;
}

async function timeRound(items: readonly BatchItem[]): Promise<{ ms: number; alerts: number }> {
  let alerts = 0;
  const publisher: AlertPublisher = {
    async publish() {
      alerts += 1;
    },
  };
  const deps = { engine: new DetectionEngine({ state: new MemoryStateStore() }), publisher };
  const started = process.hrtime.bigint();
  for (let offset = 0; offset < items.length; offset += BATCH_SIZE) {
    await runDetectionBatch(deps, items.slice(offset, offset + BATCH_SIZE));
  }
  return { ms: Number(process.hrtime.bigint() - started) / 1e6, alerts };
}

export const detectBench: BenchSection = {
  name: 'detect',
  async run(print) {
    const items = benchItems(RECORD_COUNT);
    await timeRound(items.slice(0, 5_000));
    const rounds: Array<{ ms: number; alerts: number }> = [];
    for (let round = 0; round < ROUNDS; round += 1) rounds.push(await timeRound(items));
    const sorted = [...rounds].sort((a, b) => a.ms - b.ms);
    const median = sorted[Math.floor(sorted.length / 2)];
    const recordsPerSec = Math.round((RECORD_COUNT / median.ms) * 1000);
    print(`records            ${RECORD_COUNT} (batches of ${BATCH_SIZE}, ${ROUNDS} rounds, median)`);
    print(`alert messages     ${median.alerts} per round`);
    print(`median round       ${median.ms.toFixed(0)} ms`);
    print(`records/s          ${recordsPerSec}`);
    return { recordsPerSec };
  },
};
