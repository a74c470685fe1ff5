/**
 * Bench section `validate`: parse + validate + normalise + serialise of NDJSON event lines, against
 * the floor of `JSON.parse` + `JSON.stringify` of the same lines (`ratioToParseStringify`, goal
 * ≤ 1.5). The lines are the corpus events replicated with varied uuids, times and addresses, so
 * the mix of shapes (nulls, unknown fields, the spec examples that need a lossless coercion) is
 * the corpus's own.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { eventProcessorFor } from '../lambdas/core/schema';
import type { BenchSection } from './section';

/** About a minute of a busy org's events: enough lines that per-run noise averages out. */
const LINE_COUNT = 50_000;
/**
 * Timed rounds; each times the floor and the pipeline back to back. The figures use each one's
 * fastest round: on a shared two-core machine the slower rounds measure the neighbours (other
 * processes, GC of earlier rounds), not this code. The per-round ratios are printed too.
 */
const ROUNDS = 5;
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
function cpuMs(work: () => void): number {
  const started = process.cpuUsage();
  work();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / 1000;
}

export const validateBench: BenchSection = {
  name: 'validate',
  async run(print) {
    const lines = benchLines(LINE_COUNT);
    const processor = eventProcessorFor('Okta.SystemLog');
    const context = { sourceId: 'bench', sourceLabel: 'Bench', parseTime: Date.parse('2026-01-01T00:01:00.000Z') };
    const floor = (): number => {
      let bytes = 0;
      for (const line of lines) bytes += JSON.stringify(JSON.parse(line)).length;
      return bytes;
    };
    let invalid = 0;
    const pipeline = (): number => {
      let bytes = 0;
      invalid = 0;
      for (const line of lines) {
        const result = processor.process(JSON.parse(line), context);
        if (result.ok) bytes += JSON.stringify(result.record).length;
        else invalid += 1;
      }
      return bytes;
    };
    // Warm both paths up so that the JIT, not the first round, is measured.
    floor();
    pipeline();
    const floorRuns: number[] = [];
    const pipelineRuns: number[] = [];
    const ratios: number[] = [];
    for (let round = 0; round < ROUNDS; round += 1) {
      floorRuns.push(cpuMs(floor));
      pipelineRuns.push(cpuMs(pipeline));
      ratios.push((pipelineRuns[round] as number) / (floorRuns[round] as number));
    }
    const floorMs = Math.min(...floorRuns);
    const pipelineMs = Math.min(...pipelineRuns);
    const eventsPerSec = Math.round((lines.length / pipelineMs) * 1000);
    const ratio = Math.round((pipelineMs / floorMs) * 100) / 100;
    const bytes = lines.reduce((sum, line) => sum + line.length, 0);
    print(`lines: ${lines.length} (${(bytes / 1e6).toFixed(1)} MB), invalid: ${invalid}, CPU time, fastest of ${ROUNDS} rounds`);
    print('| measurement                                  |  ms/run | events/s |');
    print('|----------------------------------------------|--------:|---------:|');
    print(`| JSON.parse + JSON.stringify (floor)          | ${floorMs.toFixed(1).padStart(7)} | ${Math.round((lines.length / floorMs) * 1000).toString().padStart(8)} |`);
    print(`| parse + validate + normalise + stringify     | ${pipelineMs.toFixed(1).padStart(7)} | ${eventsPerSec.toString().padStart(8)} |`);
    print(`ratioToParseStringify: ${ratio} (goal <= 1.5; per-round ratios ${ratios.map((r) => r.toFixed(2)).join(', ')})`);
    return { eventsPerSec, ratioToParseStringify: ratio };
  },
};
