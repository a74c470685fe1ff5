/**
 * `okta-log-pipeline pull --domain URL (--token-env VAR | --oauth-file FILE) [--since ISO]
 * [--state FILE] [--out FILE|-] [--archive DIR] [--quarantine FILE] [--follow] [--source-id ID] [--custom-domain]`:
 * the puller's core against one org, writing normalised NDJSON records (and/or a local archive),
 * resumable through a state file.
 */
import { randomBytes } from 'node:crypto';
import { sourceSecretString } from '../../lambdas/contracts/source-secret';
import { OktaError, createOktaClient, type OktaClient } from '../../lambdas/core/okta';
import {
  FileCursorStore,
  LocalArchive,
  MemoryCursorStore,
  NdjsonOutput,
  NdjsonQuarantine,
  NdjsonRecordSink,
  StateFileError,
  TeeRecordSink,
} from '../../lambdas/adapters/local';
import { pullSource, type PullDependencies, type PullProgress, type PullSummary } from '../../lambdas/core/pull/pull-source';
import type { Clock, CursorStore, SourceConfig } from '../../lambdas/core/ports';
import { eventProcessorFor } from '../../lambdas/core/schema';
import { InvalidSourceConfigError, parseSourceSecret } from '../../lambdas/core/sources/parse-source-secret';
import { SOURCE_ID_PATTERN } from '../../lambdas/core/sources/source-id';
import { parseArgs, type ParsedArgs } from './sources/args';
import { readCredential } from './sources/credential-input';
import { SourcesUsageError } from './sources/errors';
import { stripControlCharacters } from '../../lambdas/core/okta/org-text';
import { parseIsoInstant } from '../../lambdas/core/iso-instant';

const USAGE = `usage: okta-log-pipeline pull --domain URL (--token-env VAR | --oauth-file FILE) [--since ISO]
                              [--state FILE] [--out FILE|-] [--archive DIR] [--quarantine FILE] [--follow]
                              [--source-id ID]
                              [--custom-domain]
  Pulls the org's System Log with the same core as the puller Lambda and writes each event's
  normalised record as one NDJSON line.
  --domain URL        the org, e.g. https://my-org.okta.com
  --token-env VAR     name of the environment variable holding an API token (never the token itself)
  --oauth-file FILE   JSON of an OAuth service app: {"clientId", "privateKeyPem", "keyId"?, "dpop"?}
  --since ISO         where a new pull starts (default: one hour ago); ignored when --state has a cursor
  --state FILE        resume from, and save after every page, the next link in FILE (replaced atomically)
  --out FILE|-        records (default stdout, unless --archive is given); a file is appended to
  --archive DIR       also (or, without --out, only) write the records to a local archive in DIR:
                      gzip NDJSON under okta_system_log/dt=YYYY-MM-DD/, as Firehose writes S3;
                      read it with okta-log-pipeline query --archive DIR
  --quarantine FILE   invalid events as {"sourceId","receivedAt","errors","event"} (default stderr)
  --follow            poll every minute until Ctrl-C / SIGTERM, which saves the state and exits 0
  --source-id ID      p_source_id of the records (default: from the domain's host)
  --custom-domain     allow a domain that is not *.okta.com, *.oktapreview.com, *.okta-emea.com, ...
Loopback domains (http://127.0.0.1:PORT, http://localhost:PORT) need OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1.
Progress goes to stderr when it is a terminal.
Exit status: 0 caught up (or stopped by a signal in --follow), 1 the pull failed, 2 usage error,
130 interrupted before catching up (state saved).`;

/** The bounds of the command, each with its reason. */
export const PULL_COMMAND_SETTINGS = {
  /** Without --state or --since the pull starts one hour back. */
  defaultBackfillHours: 1,
  /** The puller's schedule: Okta's own export guidance polls about once a minute. */
  followIntervalMs: 60_000,
  /**
   * Leases are in memory in the CLI (one process per state file); a day outlasts any single pull,
   * so the lease never lapses while the process is alive.
   */
  leaseMs: 24 * 60 * 60 * 1000,
} as const;

const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Error kinds after which `--follow` keeps polling: the next minute may well succeed. */
const TRANSIENT_KINDS = new Set(['unavailable', 'rate-limited', 'internal']);

interface PullCommandOptions {
  readonly source: SourceConfig;
  readonly startAt: number | undefined;
  readonly statePath: string | undefined;
  /** Undefined when only the archive gets the records. */
  readonly out: string | undefined;
  readonly archive: string | undefined;
  readonly quarantine: string | undefined;
  readonly follow: boolean;
}

class PullUsageError extends Error {
  override readonly name = 'PullUsageError';
}

export default async function pull(args: string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return EXIT.ok;
  }
  let options: PullCommandOptions;
  try {
    options = readOptions(args, process.env, Date.now());
  } catch (error) {
    if (error instanceof PullUsageError || error instanceof SourcesUsageError) {
      process.stderr.write(`okta-log-pipeline pull: ${error.message}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  return run(options);
}

function readOptions(args: readonly string[], env: NodeJS.ProcessEnv, now: number): PullCommandOptions {
  const parsed = parseArgs(args, {
    values: ['--domain', '--token-env', '--oauth-file', '--since', '--state', '--out', '--archive', '--quarantine', '--source-id'],
    switches: ['--follow', '--custom-domain'],
  });
  if (parsed.positionals.length > 0) throw new PullUsageError(`unexpected argument "${parsed.positionals[0]}" (see --help)`);
  const domain = parsed.value('--domain');
  if (domain === undefined) throw new PullUsageError('--domain URL is required, e.g. --domain https://my-org.okta.com');
  const credential = readCredential(parsed.value('--token-env'), parsed.value('--oauth-file'), env);
  const sourceId = parsed.value('--source-id') ?? sourceIdFromDomain(domain);
  if (!SOURCE_ID_PATTERN.test(sourceId)) {
    throw new PullUsageError(`--source-id must match ${SOURCE_ID_PATTERN.source} (lower-case letters, digits and '-')`);
  }
  const secret = sourceSecretString({
    domain,
    ...credential,
    backfillHours: PULL_COMMAND_SETTINGS.defaultBackfillHours,
    allowCustomDomain: parsed.has('--custom-domain'),
  });
  let source: SourceConfig;
  try {
    source = parseSourceSecret(sourceId, secret, { allowLoopback: env.OKTA_LOG_PIPELINE_ALLOW_LOOPBACK === '1' });
  } catch (error) {
    if (error instanceof InvalidSourceConfigError) throw new PullUsageError(describeIssues(error, parsed));
    throw error;
  }
  return {
    source,
    startAt: readSince(parsed.value('--since'), now),
    statePath: parsed.value('--state'),
    out: parsed.value('--out') ?? (parsed.value('--archive') === undefined ? '-' : undefined),
    archive: parsed.value('--archive'),
    quarantine: parsed.value('--quarantine'),
    follow: parsed.has('--follow'),
  };
}

/** `acme.okta.com` → `acme-okta-com`: a valid source id that still says which org the records came from. */
function sourceIdFromDomain(domain: string): string {
  const host = URL.canParse(domain) ? new URL(domain).hostname : 'okta';
  const id = host
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return id === '' ? 'okta' : id;
}

function readSince(text: string | undefined, now: number): number | undefined {
  if (text === undefined) return undefined;
  const time = parseIsoInstant(text, { allowDate: true });
  if (time === undefined) {
    throw new PullUsageError(
      `--since must be an ISO 8601 date or time with its offset, such as 2026-01-01T00:00:00Z, got ${JSON.stringify(text.slice(0, 40))}`,
    );
  }
  if (time > now) throw new PullUsageError(`--since ${text} is in the future`);
  return time;
}

/** The secret parser speaks of secret fields; the user typed flags, so the message names those. */
function describeIssues(error: InvalidSourceConfigError, parsed: ParsedArgs): string {
  const oauthFile = parsed.value('--oauth-file');
  const tokenEnv = parsed.value('--token-env');
  return error.issues
    .map((issue) => {
      if (issue.field === 'domain') return `--domain ${issue.problem.replace('set "allowCustomDomain": true', 'pass --custom-domain')}`;
      if (issue.field === 'apiToken' && tokenEnv !== undefined) return `the token in $${tokenEnv} ${issue.problem}`;
      if (issue.field.startsWith('oauth') && oauthFile !== undefined) return `--oauth-file ${oauthFile}: ${issue.field} ${issue.problem}`;
      return `${issue.field} ${issue.problem}`;
    })
    .join('; ');
}

async function run(options: PullCommandOptions): Promise<number> {
  const stop = new AbortController();
  const onSignal = (): void => {
    // A second Ctrl-C means "now": the state file is always whole (atomic rename), so nothing is lost.
    if (stop.signal.aborted) process.exit(EXIT.interrupted);
    stop.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const clock = interruptibleClock(stop.signal);
  const progress = new ProgressLine(options.source.id, process.stderr.isTTY === true);
  let out: NdjsonOutput | undefined;
  let quarantine: NdjsonOutput | undefined;
  try {
    let okta: OktaClient;
    try {
      okta = createOktaClient(options.source, { clock, allowLoopback: process.env.OKTA_LOG_PIPELINE_ALLOW_LOOPBACK === '1' });
    } catch (error) {
      if (error instanceof OktaError) return fail(error.message, EXIT.usage);
      throw error;
    }
    try {
      out =
        options.out === undefined
          ? undefined
          : options.out === '-'
            ? NdjsonOutput.toStream(process.stdout)
            : await NdjsonOutput.openFile(options.out);
      quarantine =
        options.quarantine === undefined ? NdjsonOutput.toStream(process.stderr) : await NdjsonOutput.openFile(options.quarantine);
    } catch (error) {
      return fail(`cannot open output: ${error instanceof Error ? error.message : String(error)}`, EXIT.usage);
    }
    const cursors: CursorStore =
      options.statePath === undefined ? new MemoryCursorStore(clock) : new FileCursorStore(options.statePath, clock);
    const deps: PullDependencies = {
      okta,
      cursors,
      sink: new TeeRecordSink([
        ...(out === undefined ? [] : [new NdjsonRecordSink(out)]),
        ...(options.archive === undefined ? [] : [new LocalArchive(options.archive, clock)]),
      ]),
      quarantine: new NdjsonQuarantine(quarantine),
      processor: eventProcessorFor('Okta.SystemLog'),
      clock,
    };
    return await pollLoop(deps, options, stop.signal, clock, progress);
  } catch (error) {
    if (error instanceof StateFileError) return fail(error.message, EXIT.usage);
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await out?.close();
    await quarantine?.close();
  }
}

async function pollLoop(
  deps: PullDependencies,
  options: PullCommandOptions,
  signal: AbortSignal,
  clock: Clock,
  progress: ProgressLine,
): Promise<number> {
  const owner = `cli-${process.pid}-${randomBytes(4).toString('hex')}`;
  for (;;) {
    const started = clock.now();
    const summary = await pullSource(deps, options.source, {
      owner,
      deadline: Number.POSITIVE_INFINITY,
      leaseMs: PULL_COMMAND_SETTINGS.leaseMs,
      ...(options.startAt === undefined ? {} : { startAt: options.startAt }),
      signal,
      onPage: (state) => progress.update(state),
    });
    progress.finish(summary);
    if (summary.outcome === 'lease-held')
      return fail(`source ${options.source.id}: the state is in use by another run of this process`, EXIT.failed);
    if (summary.outcome === 'failed') {
      const message = summary.error?.message ?? `source ${options.source.id}: the pull failed`;
      if (!options.follow || !TRANSIENT_KINDS.has(summary.error?.kind ?? 'internal')) return fail(message, EXIT.failed);
      process.stderr.write(`okta-log-pipeline pull: ${stripControlCharacters(message)}; trying again in a minute\n`);
    }
    if (signal.aborted) return options.follow ? EXIT.ok : EXIT.interrupted;
    if (!options.follow) return EXIT.ok;
    await clock.sleep(Math.max(0, started + PULL_COMMAND_SETTINGS.followIntervalMs - clock.now()));
    if (signal.aborted) return EXIT.ok;
  }
}

function fail(message: string, code: number): number {
  process.stderr.write(`okta-log-pipeline pull: ${stripControlCharacters(message)}\n`);
  return code;
}

/**
 * The real clock, whose waits end early once the command is told to stop: Ctrl-C must not sit
 * out a one-minute rate-limit wait, and no timer may keep the process alive after it.
 */
function interruptibleClock(signal: AbortSignal): Clock {
  return {
    now: () => Date.now(),
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        if (signal.aborted) {
          resolve();
          return;
        }
        const done = (): void => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, Math.max(0, ms));
        signal.addEventListener('abort', done, { once: true });
      }),
  };
}

/** One self-overwriting line on a terminal; nothing at all when stderr is a file or a pipe. */
class ProgressLine {
  constructor(
    private readonly sourceId: string,
    private readonly enabled: boolean,
  ) {}

  update(state: PullProgress): void {
    if (!this.enabled) return;
    process.stderr.write(`\r\u001b[K${this.describe(state)}`);
  }

  finish(summary: PullSummary): void {
    if (!this.enabled) return;
    const verdict = summary.outcome === 'caught-up' ? 'caught up' : summary.outcome === 'deadline' ? 'stopped' : summary.outcome;
    process.stderr.write(`\r\u001b[K${this.describe(summary)}: ${verdict}\n`);
  }

  private describe(state: PullProgress): string {
    const waits =
      state.rateLimitWaits > 0 ? `, ${state.rateLimitWaits} rate-limit waits (${Math.round(state.rateLimitWaitMs / 1000)} s)` : '';
    const newest = state.newestPublished === undefined ? '' : `, newest ${state.newestPublished}`;
    return stripControlCharacters(
      `${this.sourceId}: ${state.pages} pages, ${state.delivered} records, ${state.invalid} quarantined${waits}${newest}`,
    );
  }
}
