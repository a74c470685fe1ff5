/**
 * `okta-log-pipeline demo [--interval SECONDS] [--for SECONDS] [--quiet-org-stops-after SECONDS] [--out FILE] [--archive DIR]`:
 * the embedded default that `npm start` runs (see `local/demo/run-demo.ts`). Exit status 0 when
 * no served event is missing from the stream read back, 1 when one is, 2 for a usage error.
 */
import { runDemo, type DemoOptions } from '../../local/demo/run-demo';
import { CommandLineError, parseCommandLine } from './args';

const USAGE = `usage: okta-log-pipeline demo [--interval SECONDS] [--for SECONDS] [--quiet-org-stops-after SECONDS] [--out FILE] [--archive DIR]
  Runs the whole pipeline on this machine: two emulated Okta orgs (one busy, one quiet), local
  Kinesis, DynamoDB, Secrets Manager, S3 and SNS, the real puller on a schedule and the real
  detections on the stream. No AWS account and no Okta org needed.
  --interval SECONDS               time between puller runs (default 60, as deployed; 1 to 3600)
  --for SECONDS                    stop by itself after this long (default: run until Ctrl-C)
  --quiet-org-stops-after SECONDS  stop the quiet org's traffic then, so its drop-off alarm fires
  --out FILE                       NDJSON file of the records read back from the stream
                                   (default: records.ndjson in a new temporary directory)
  --archive DIR                    keep the archive there: the stream's records as Firehose writes them
                                   to S3 (gzip NDJSON under okta_system_log/dt=YYYY-MM-DD/), for
                                   okta-log-pipeline query --archive DIR (default: archive/ in the
                                   temporary directory; printed at start)
  Ends with a summary and, as its last line, {"eventsServed", "eventsDelivered", "duplicates", "lost", "invalid"}.`;

class UsageError extends Error {
  override readonly name = 'UsageError';
}

const VALUE_FLAGS = ['--interval', '--for', '--quiet-org-stops-after', '--out', '--archive'] as const;
type ValueFlag = (typeof VALUE_FLAGS)[number];

function parseArgs(args: readonly string[]): DemoOptions {
  // The last of a repeated flag counts, and `--for=` is a value, which the check of seconds refuses.
  const parsed = parseCommandLine(args, { values: VALUE_FLAGS, repeated: 'last', allowEmptyValue: true });
  // The demo takes no arguments but its options: a stray word is reported as one.
  if (parsed.positionals.length > 0) throw new UsageError(`unknown option "${parsed.positionals[0]}"`);
  const seconds = (flag: ValueFlag, min: number, max: number): number | undefined => {
    const text = parsed.value(flag);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < min || value > max) {
      throw new UsageError(`${flag} must be a number of seconds from ${min} to ${max}, got "${text}"`);
    }
    return value;
  };
  const forSeconds = seconds('--for', 1, 7 * 24 * 3600);
  const quietOrgStopsAfterSeconds = seconds('--quiet-org-stops-after', 0, 7 * 24 * 3600);
  const out = parsed.value('--out');
  const archive = parsed.value('--archive');
  return {
    intervalSeconds: seconds('--interval', 1, 3600) ?? 60,
    ...(forSeconds === undefined ? {} : { forSeconds }),
    ...(quietOrgStopsAfterSeconds === undefined ? {} : { quietOrgStopsAfterSeconds }),
    ...(out === undefined ? {} : { out }),
    ...(archive === undefined ? {} : { archive }),
  };
}

export default async function demo(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  let options: DemoOptions;
  try {
    options = parseArgs(args);
  } catch (error) {
    if (!(error instanceof UsageError || error instanceof CommandLineError)) throw error;
    process.stderr.write(`okta-log-pipeline demo: ${error.message}\n${USAGE}\n`);
    return 2;
  }
  const stop = new AbortController();
  const onSigint = (): void => {
    if (stop.signal.aborted) {
      // A second Ctrl-C means "now": skip the final pull and the summary.
      process.exit(130);
    }
    process.stderr.write('\nstopping cleanly (Ctrl-C again to quit at once)...\n');
    stop.abort();
  };
  process.on('SIGINT', onSigint);
  try {
    const tally = await runDemo(options, { stdout: process.stdout, signal: stop.signal });
    return tally.lost === 0 ? 0 : 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}
