/**
 * What one org costs in CloudWatch Logs: the bytes of log lines and EMF documents one puller run
 * writes for a deployment of one org, measured on the local runtime, whose containers run the real
 * handler and whose stdout is what CloudWatch Logs would store. The README's cost table quotes the
 * bound asserted here. Lambda's own START, END and REPORT lines are not emulated, so they are not
 * counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPipeline, type LambdaLogLine, type LocalPipeline } from '../../local/runtime';

let pipeline: LocalPipeline;
let workDir: string;
const lines: LambdaLogLine[] = [];
const finished = new Map<string, () => void>();

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'log-volume-test-'));
  pipeline = await startLocalPipeline({
    workDir,
    sources: [{ sourceId: 'acme', eventsPerMinute: 0, seed: 21 }],
    onLogLine: (line) => {
      lines.push(line);
      // The run's last line: the invocation's stdout may arrive after its answer, so wait for it.
      if (line.line.includes('"puller run finished"')) finished.get(requestIdOf(line.line) ?? '')?.();
    },
  });
});

afterAll(async () => {
  await pipeline?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function requestIdOf(line: string): string | undefined {
  try {
    const parsed = JSON.parse(line) as { function_request_id?: unknown };
    return typeof parsed.function_request_id === 'string' ? parsed.function_request_id : undefined;
  } catch {
    return undefined;
  }
}

/** Runs the puller once and returns every line the containers wrote while it ran. */
async function runLines(requestId: string): Promise<string[]> {
  const from = lines.length;
  const done = new Promise<void>((resolve) => finished.set(requestId, resolve));
  await pipeline.runPuller({ requestId });
  await done;
  return lines.slice(from).map((entry) => entry.line);
}

test('a warm run of one org that delivers a minute of events (70, one page) writes at most 2.3 KB of log lines and EMF (the README’s CloudWatch Logs line)', async () => {
  const acme = pipeline.orgs[0]?.org;
  if (acme === undefined) throw new Error('no org');
  // The first run is the cold start and the backfill; the second is what every following minute costs.
  acme.generate(70);
  await runLines('cold-run');
  acme.generate(70);

  const warm = await runLines('warm-run');

  // Every line written meanwhile belongs to the run; the run did its work.
  const parsed = warm.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(parsed.map((line) => line.function_request_id)).toEqual(['warm-run', 'warm-run', 'warm-run', 'warm-run']);
  expect(parsed.map((line) => line.message ?? line.SourceId ?? 'deployment metrics')).toEqual([
    'source pulled',
    'acme',
    'deployment metrics',
    'puller run finished',
  ]);
  expect(parsed[1]).toMatchObject({ EventsDelivered: 70, Outcome: 'caught-up' });
  // UTF-8 bytes, one newline each: what CloudWatch Logs ingests.
  const bytes = warm.reduce((sum, line) => sum + Buffer.byteLength(line, 'utf8') + 1, 0);
  expect(bytes).toBeGreaterThan(1_000);
  // Measured 2,150 bytes; the rest is room for durations and lags of more digits.
  expect(bytes).toBeLessThanOrEqual(2_300);
});
