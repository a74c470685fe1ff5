/** Builders for detection tests: Okta events with only the fields the rules read. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import { DetectionEngine } from '../../lambdas/core/detections/engine';
import { MemoryStateStore } from '../../lambdas/core/detections/memory-state-store';
import type { DetectionRecord } from '../../lambdas/core/detections/record';

export interface CorpusCase {
  readonly name: string;
  readonly expected: boolean;
  readonly event: DetectionRecord;
}

export function readCases(file: string): CorpusCase[] {
  return readFileSync(join(__dirname, '..', 'fixtures', 'detections', file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as CorpusCase);
}

export const T0 = Date.parse('2026-03-01T14:00:00.000Z');
export const MINUTE = 60_000;

let counter = 0;
function nextUuid(): string {
  counter += 1;
  return `uuid-${String(counter).padStart(6, '0')}`;
}

export function failedLogin(
  at: number,
  user = 'jack@acme.io',
  reason = 'INVALID_CREDENTIALS',
  extra: Record<string, unknown> = {},
): DetectionRecord {
  return {
    uuid: nextUuid(),
    published: new Date(at).toISOString(),
    eventType: 'user.session.start',
    actor: { id: '00u1', type: 'User', alternateId: user, displayName: 'Jack' },
    client: { ipAddress: '203.0.113.7' },
    outcome: { result: 'FAILURE', reason },
    ...extra,
  };
}

export interface Place {
  readonly city: string;
  readonly lat: number;
  readonly lon: number;
}

export const BALTIMORE: Place = { city: 'Baltimore', lat: 39.2891, lon: -76.5583 };
export const BETHESDA: Place = { city: 'Bethesda', lat: 38.9846, lon: -77.0947 };
export const LONDON: Place = { city: 'London', lat: 51.5072, lon: -0.1276 };

export function successfulLogin(
  at: number,
  place: Partial<Place>,
  ip: string,
  user = 'buser@example.com',
  result = 'SUCCESS',
): DetectionRecord {
  return {
    uuid: nextUuid(),
    p_event_time: new Date(at).toISOString().replace('T', ' ').replace('Z', ''),
    p_source_id: 'acme',
    eventType: 'user.session.start',
    actor: { id: '00u2', type: 'User', alternateId: user, displayName: 'Bobert User' },
    client: {
      ipAddress: ip,
      geographicalContext: {
        city: place.city ?? null,
        country: 'Somewhere',
        geolocation: place.lat === undefined && place.lon === undefined ? null : { lat: place.lat ?? null, lon: place.lon ?? null },
      },
    },
    outcome: { result },
  };
}

/** A fresh engine with in-memory state, and a helper that runs records in order. */
export function memoryEngine(): {
  engine: DetectionEngine;
  state: MemoryStateStore;
  run: (records: DetectionRecord[]) => Promise<AlertMessage[][]>;
} {
  const state = new MemoryStateStore();
  const engine = new DetectionEngine({ state });
  return {
    engine,
    state,
    async run(records) {
      const out: AlertMessage[][] = [];
      for (const record of records) out.push((await engine.evaluate(record)).alerts);
      return out;
    },
  };
}
