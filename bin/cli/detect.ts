/**
 * `okta-log-pipeline detect [FILE|-]`: runs the built-in detections over records (normalised output
 * records or raw Okta events, one JSON object a line) in file order, with in-memory state, and
 * prints every alert message as one JSON line on stdout: `"status": "new"` when an alert fires,
 * `"status": "updated"` (at most once per alert per chunk of lines) when later matches join it.
 * Time is each record's own, so the same file always gives the same alerts.
 */
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { AlertMessage, AlertPublisher } from '../../lambdas/core/detections/ports';
import { DetectionEngine } from '../../lambdas/core/detections/engine';
import { MemoryStateStore } from '../../lambdas/core/detections/memory-state-store';
import { runDetectionBatch, type BatchItem } from '../../lambdas/core/detections/run-batch';
import { stripControlCharacters, terminalSafeJson } from '../../lambdas/core/okta/org-text';
import { CommandLineError, parseCommandLine } from './args';

const USAGE = `usage: okta-log-pipeline detect [FILE|-]
  Reads records (normalised or raw Okta events, one JSON object a line) from FILE, or stdin when
  FILE is "-" or absent, runs the detections in order and prints each alert as a JSON line.
  A line that is not a JSON object is reported on stderr and skipped.
  Exit status: 0 done, 2 usage error or unreadable input.`;

/**
 * Lines judged per batch: the unit in which `updated` messages are coalesced, as a Kinesis batch
 * is in the Lambda. Fixed, so that a file always prints the same lines.
 */
const LINES_PER_BATCH = 500;

/** Writes each message as one JSON line, waiting when stdout's buffer is full. */
const stdoutPublisher: AlertPublisher = {
  async publish(message: AlertMessage): Promise<void> {
    // C1 controls and bidi overrides from event data escaped (the same JSON): stdout may be a terminal.
    if (!process.stdout.write(`${terminalSafeJson(JSON.stringify(message))}\n`)) await once(process.stdout, 'drain');
  },
};

function fail(message: string): number {
  process.stderr.write(`okta-log-pipeline detect: ${message}\n`);
  return 2;
}

async function openInput(input: string): Promise<Readable> {
  if (input === '-') return process.stdin;
  // Opened first so that a missing or unreadable file is one clear error before any output.
  const handle = await fs.open(input, 'r');
  return handle.createReadStream({ encoding: 'utf8' });
}

export default async function detect(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let files: readonly string[];
  try {
    files = parseCommandLine(args, { values: [] }).positionals;
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    // detect has no options: whatever looks like one is named as typed.
    return fail(`unknown option ${args[error.problem.index]}\n${USAGE}`);
  }
  if (files.length > 1) return fail(`expected at most one FILE, got ${files.length}\n${USAGE}`);
  const input = files[0] ?? '-';

  let stream: Readable;
  try {
    stream = await openInput(input);
  } catch (error) {
    return fail(`cannot read ${input}: ${error instanceof Error ? error.message : String(error)}`);
  }

  const deps = { engine: new DetectionEngine({ state: new MemoryStateStore() }), publisher: stdoutPublisher };
  const totals = { records: 0, raised: 0, updated: 0, skipped: 0 };
  const run = async (batch: BatchItem[]): Promise<void> => {
    const report = await runDetectionBatch(deps, batch);
    for (const { id, reason } of report.skipped)
      process.stderr.write(`okta-log-pipeline detect: line ${id}: ${stripControlCharacters(reason)}\n`);
    const failure = report.retryFrom ?? report.failedUpdates[0];
    if (failure) throw failure.error;
    totals.records += report.processed;
    totals.raised += report.alertsRaised;
    totals.updated += report.alertsUpdated;
    totals.skipped += report.skipped.length;
  };

  let batch: BatchItem[] = [];
  let lineNumber = 0;
  try {
    for await (const line of createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })) {
      lineNumber += 1;
      if (line.trim() === '') continue;
      batch.push({ id: String(lineNumber), data: line });
      if (batch.length >= LINES_PER_BATCH) {
        await run(batch);
        batch = [];
      }
    }
    await run(batch);
  } catch (error) {
    return fail(`${input === '-' ? 'stdin' : input}: ${error instanceof Error ? error.message : String(error)}`);
  }
  process.stderr.write(
    `${totals.records} records, ${totals.raised} alerts raised, ${totals.updated} alert updates, ${totals.skipped} lines skipped\n`,
  );
  return 0;
}
