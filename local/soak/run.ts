/**
 * `npm run soak -- --minutes N [--seed S] [--rate R]`: the chaos soak of the whole local pipeline.
 * Progress goes to stderr; stdout gets the invariants, then, as its last line, the JSON summary.
 * Exit status 0 when every invariant held, 1 when one failed, 2 for bad arguments.
 */
import { CommandLineError, parseCommandLine, type ParsedArgs } from '../../bin/cli/args';
import { runSoak, SOAK_DEFAULTS } from './soak';

const FLAGS = ['--minutes', '--seed', '--rate'];
const USAGE =
  'usage: npm run soak -- --minutes N [--seed S] [--rate R]   (N simulated minutes; R simulated seconds per real second, default 30)';

function parseArgs(argv: readonly string[]): { minutes: number; seed: number; rate: number } {
  let parsed: ParsedArgs;
  try {
    // The last of a repeated flag counts; an empty value reads as 0 and fails its range below.
    parsed = parseCommandLine(argv, { values: FLAGS, repeated: 'last', allowEmptyValue: true });
  } catch (error) {
    if (!(error instanceof CommandLineError)) throw error;
    const at = error.problem.index;
    throw new Error(`${USAGE}\nunexpected ${argv[at] ?? ''} ${argv[at + 1] ?? ''}`.trim(), { cause: error });
  }
  if (parsed.positionals.length > 0) throw new Error(`${USAGE}\nunexpected ${parsed.positionals.join(' ')}`);
  const number = (flag: string): number | undefined => {
    const text = parsed.value(flag);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value)) throw new Error(`${USAGE}\nunexpected ${flag} ${text}`.trim());
    return value;
  };
  const minutes = number('--minutes') ?? 1;
  const rate = number('--rate') ?? SOAK_DEFAULTS.rate;
  const seed = number('--seed');
  if (!Number.isInteger(minutes) || minutes < 1 || minutes > 1440)
    throw new Error(`--minutes must be a whole number from 1 to 1440\n${USAGE}`);
  if (!(rate >= 1 && rate <= 120)) throw new Error(`--rate must be from 1 to 120\n${USAGE}`);
  return { minutes, seed: Math.trunc(seed ?? Date.now() % 1_000_000), rate };
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    return 2;
  }
  process.stderr.write(
    `soak: ${args.minutes} simulated minute(s), seed ${args.seed}; time runs ${args.rate}x faster than the wall clock (one clock for the orgs and every puller container), so a minute takes ${(60 / args.rate).toFixed(1)} s\n`,
  );
  const report = await runSoak({ ...args, onProgress: (line) => process.stderr.write(`soak: ${line}\n`) });
  for (const invariant of report.invariants)
    process.stdout.write(`${invariant.held ? 'HELD  ' : 'FAILED'} ${invariant.name}: ${invariant.detail}\n`);
  process.stdout.write(
    `runs: ${report.invocations.total} (${report.invocations.aborted} killed, ${report.invocations.failed} failed, ${report.invocations.drain} draining); ${report.realSeconds} s of wall time; logs in ${report.workDir}/soak.log\n`,
  );
  process.stdout.write(
    `${JSON.stringify({ minutes: report.minutes, seed: report.seed, eventsServed: report.eventsServed, eventsDelivered: report.eventsDelivered, lost: report.lost, duplicates: report.duplicates, faults: report.faults, invariantsHeld: report.invariantsHeld })}\n`,
  );
  return report.invariantsHeld ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`soak: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
