/**
 * Bench section `validate`: parse + validate + normalise + serialise of NDJSON event lines through
 * `examineEvent`, the puller's and the `validate` command's own path (the record text included:
 * the event's own text plus the `p_*` members, or `JSON.stringify` of the record), against the
 * floor of `JSON.parse` + `JSON.stringify` of the same lines (`ratioToParseStringify`, goal
 * ≤ 1.25). The lines are the corpus events replicated with varied uuids, times and addresses, so
 * the mix of shapes (nulls, unknown fields, the spec examples that need a lossless coercion) is
 * the corpus's own.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventProcessorFor } from '../lambdas/core/schema';
import { DEFAULT_EVENT_LIMITS, examineEvent } from '../lambdas/core/pull/examine-event';
import { rawEventOfText, type RawEvent } from '../lambdas/core/okta/json-array-scanner';
import type { BenchSection } from './section';

/** About a minute of a busy org's events: enough lines that per-run noise averages out. */
const LINE_COUNT = 50_000;
/**
 * Timed rounds. Within a round the floor and the pipeline take turns slice by slice, so both see
 * the same load from the neighbours (other processes on a shared two-core machine came and went
 * between whole-round runs, and rounds ranged from 1.27 to 1.74). A slice allocates several
 * young-generation spaces' worth, so each mode pays for its own garbage.
 */
const ROUNDS = 7;
const SLICE_LINES = 2_500;
/** The corpus events (copied from the shared corpus, see test/fixtures/README.md). */
const FIXTURE = path.resolve(__dirname, '../test/fixtures/okta-events.ndjson');

function corpusLines(): string[] {
  return readFileSync(FIXTURE, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

/** `count` lines cycling through the corpus, each with its own uuid, time and client address. */
export function benchLines(count: number): string[] {
  const events = corpusLines().map((line) => JSON.parse(line) as Record<string, unknown>);
  const start = Date.parse('2026-01-01T00:00:00.000Z');
  const lines: string[] = [];
  for (let index = 0; index < count; index += 1) {
    const event = structuredClone(events[index % events.length]) as Record<string, unknown>;
    event.uuid = `bench-${index.toString(16).padStart(8, '0')}-0000-4000-8000-000000000000`;
    event.published = new Date(start + index * 37).toISOString();
    const client = event.client;
    if (typeof client === 'object' && client !== null && !Array.isArray(client)) {
      (client as Record<string, unknown>).ipAddress = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}`;
    }
    lines.push(JSON.stringify(event));
  }
  return lines;
}

/**
 * CPU time (user + system) of this process in ms: on a shared two-core machine wall time mostly
 * measures the neighbours.
 */
function cpuMs(work: () => unknown): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

export const validateBench: BenchSection = {
  name: 'validate',
  async run(print) {
    const lines = benchLines(LINE_COUNT);
    // The events as the page scanner hands them over (measured once, outside the timing: the
    // scanner's pass over the body comes before either path).
    const events = lines.map(rawEventOfText);
    const processor = eventProcessorFor('Okta.SystemLog');
    const context = { sourceId: 'bench', sourceLabel: 'Bench', parseTime: Date.parse('2026-01-01T00:01:00.000Z') };
    const floor = (slice: readonly RawEvent[]): number => {
      let bytes = 0;
      for (const raw of slice) bytes += JSON.stringify(JSON.parse(raw.text())).length;
      return bytes;
    };
    let invalid = 0;
    // The puller's and the `validate` command's own path, record text included.
    const pipeline = (slice: readonly RawEvent[]): number => {
      let bytes = 0;
      for (const raw of slice) {
        const verdict = examineEvent(raw, processor, context, DEFAULT_EVENT_LIMITS);
        if ('record' in verdict) bytes += verdict.record.json.length;
        else invalid += 1;
      }
      return bytes;
    };
    const slices: RawEvent[][] = [];
    for (let start = 0; start < events.length; start += SLICE_LINES) slices.push(events.slice(start, start + SLICE_LINES));
    // Warm both paths up so that the JIT, not the first round, is measured.
    floor(events);
    pipeline(events);
    const floorRuns: number[] = [];
    const pipelineRuns: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      let floorMs = 0;
      let pipelineMs = 0;
      invalid = 0;
      for (const slice of slices) {
        floorMs += cpuMs(() => floor(slice));
        pipelineMs += cpuMs(() => pipeline(slice));
      }
      floorRuns.push(floorMs);
      pipelineRuns.push(pipelineMs);
      ratios.push(pipelineMs / floorMs);
    }
    const floorMs = Math.min(...floorRuns);
    const pipelineMs = Math.min(...pipelineRuns);
    const eventsPerSec = Math.round((lines.length / pipelineMs) * 1000);
    // The median round: robust to a round that the neighbours slowed down more on one side.
    const ratio = Math.round(median(ratios) * 100) / 100;
    const bytes = lines.reduce((sum, line) => sum + line.length, 0);
    print(`lines: ${lines.length} (${(bytes / 1e6).toFixed(1)} MB), invalid: ${invalid}, CPU time, fastest of ${ROUNDS} rounds`);
    print('| measurement                                  |  ms/run | events/s |');
    print('|----------------------------------------------|--------:|---------:|');
    print(
      `| JSON.parse + JSON.stringify (floor)          | ${floorMs.toFixed(1).padStart(7)} | ${Math.round((lines.length / floorMs) * 1000)
        .toString()
        .padStart(8)} |`,
    );
    print(
      `| parse + validate + normalise + record text   | ${pipelineMs.toFixed(1).padStart(7)} | ${eventsPerSec.toString().padStart(8)} |`,
    );
    print(`ratioToParseStringify: ${ratio} (goal <= 1.25; median of per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
    return { eventsPerSec, ratioToParseStringify: ratio };
  },
};
