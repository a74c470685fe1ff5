import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { MAX_PULLER_SHARDS } from '../lambdas/core/puller/shard';

/**
 * The deployment's settings, read from CDK context (`cdk.json` or `cdk deploy -c key=value`).
 * Every default sits in `CONTEXT_DEFAULTS` below with the reason for it; `docs/ALARMS.md` lists
 * them for users, and a test keeps that table equal to this file.
 */
export interface PipelineConfig {
  /** Secrets named `<prefix><sourceId>` are sources; the puller may read only these. */
  readonly sourceSecretPrefix: string;
  /** E-mail address subscribed to the on-call topic (confirmation mail must be accepted). */
  readonly alarmEmail?: string;
  /** HTTPS endpoint subscribed to the on-call topic, e.g. a PagerDuty or Opsgenie CloudWatch integration URL. */
  readonly alarmHttpsEndpoint?: string;
  /** E-mail address subscribed to the detections' alerts topic. */
  readonly alertsEmail?: string;
  readonly streamMode: 'ON_DEMAND' | 'PROVISIONED';
  /** Only with `streamMode: PROVISIONED`. */
  readonly streamShardCount?: number;
  readonly streamRetentionHours: number;
  readonly quarantineExpirationDays: number;
  readonly pullerMemoryMb: number;
  readonly pullerTimeoutSeconds: number;
  readonly runBudgetSeconds: number;
  readonly rateLimitReservePercent: number;
  /** Puller invocations per minute, each pulling the sources whose id hashes to its shard. */
  readonly pullerShards: number;
  readonly logRetentionDays: RetentionDays;
  /** `POWERTOOLS_LOG_LEVEL` of both Lambdas. */
  readonly logLevel: LogLevel;
  /** Where docs/ALARMS.md is published; each alarm's description links to `<url>#<runbook entry>`. */
  readonly runbookBaseUrl: string;
  /** The archive (Firehose -> S3, Glue table, Athena workgroup); `-c archive=false` leaves it out. */
  readonly archive: boolean;
  readonly archiveRetentionDays: number;
}

/** The context keys users set; anything else in context belongs to the CDK itself. */
export const CONTEXT_KEYS = [
  'sourceSecretPrefix',
  'alarmEmail',
  'alarmHttpsEndpoint',
  'alertsEmail',
  'streamMode',
  'streamShardCount',
  'streamRetentionHours',
  'quarantineExpirationDays',
  'pullerMemoryMb',
  'pullerTimeoutSeconds',
  'runBudgetSeconds',
  'rateLimitReservePercent',
  'pullerShards',
  'logRetentionDays',
  'logLevel',
  'runbookBaseUrl',
  'archive',
  'archiveRetentionDays',
] as const;

export type ContextKey = (typeof CONTEXT_KEYS)[number];

/** The Powertools Logger levels a deployment may choose. */
export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CONTEXT_DEFAULTS = {
  // The `sources` CLI and the docs create secrets under this prefix.
  sourceSecretPrefix: 'okta-log-pipeline/sources/',
  // Pay per event and no shard planning: the puller writes in one-minute bursts whose size is
  // set by the Okta orgs, not by us. PROVISIONED is cheaper only for a steady, known volume.
  streamMode: 'ON_DEMAND',
  // The stream is a transport, read within minutes by the detections and the user's consumers;
  // 24 h is Kinesis' included retention, anything longer is billed per shard-hour or GB.
  streamRetentionHours: 24,
  // Long enough to notice schema drift, fix the schema and replay the quarantined events; short
  // enough that raw copies of audit events (which hold personal data) do not pile up.
  quarantineExpirationDays: 30,
  // The benchmark's goal: 10 sources x 10,000 events fit in 256 MB (`npm run bench`).
  pullerMemoryMb: 256,
  // The run stops fetching at runBudgetSeconds (55) and still has to flush Kinesis batches and
  // save every cursor; 35 s more covers one slow Okta request (35 s timeout) in flight.
  pullerTimeoutSeconds: 90,
  // Under the one-minute schedule, so that runs do not pile up (leases make overlap safe, not free).
  runBudgetSeconds: 55,
  // The org's rate limit is shared with every other integration; 20 % stays for them.
  rateLimitReservePercent: 20,
  // One invocation covers about 1,400 caught-up sources a minute (docs/SCALING.md), so 500 fit;
  // more shards only pay off when many orgs backfill at once and sources wait for a slot.
  pullerShards: 1,
  // Three months of puller and detections logs covers an incident review without keeping
  // the logs forever (CloudWatch's default).
  logRetentionDays: RetentionDays.THREE_MONTHS,
  // Powertools' own default; WARN or ERROR log less, DEBUG more while investigating.
  logLevel: 'INFO',
  // The runbook as this project publishes it (package.json `repository`), so that a page opened on a phone at 3 a.m. is
  // one tap from the entry; a fork or an internal wiki sets its own copy's URL.
  runbookBaseUrl: 'https://github.com/okta-log-pipeline/okta-log-pipeline/blob/main/docs/ALARMS.md',
  // Okta keeps the System Log 90 days and the stream 24 hours: the archive is what makes an event
  // findable later, so it is on unless turned off.
  archive: true,
  // A year and a month: a year-over-year comparison and a yearly audit both find their events.
  archiveRetentionDays: 400,
} as const;

/** Thrown when a context value is unusable; the message names the key and the value that was given. */
export class InvalidContextError extends Error {
  constructor(
    readonly key: ContextKey,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`CDK context "${key}": ${message}`, options);
    this.name = 'InvalidContextError';
  }
}

/** Reads one context value; `node.tryGetContext` in the app, a plain object in tests. */
export type ContextReader = (key: string) => unknown;

const SECRET_NAME_CHARS = /^[A-Za-z0-9/_+=.@-]+$/;
// Secrets Manager names are at most 512 characters and a source id up to 63 follows the prefix.
const MAX_PREFIX_LENGTH = 512 - 63;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const LOG_RETENTION_DAYS = new Set<number>(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number'));

/** Reads and validates every context key, filling in `CONTEXT_DEFAULTS`. */
export function readPipelineConfig(read: ContextReader): PipelineConfig {
  const streamMode = readStreamMode(read('streamMode'));
  const streamShardCount = readOptionalInteger(read, 'streamShardCount', 1, 4096);
  if (streamMode === 'PROVISIONED' && streamShardCount === undefined) {
    throw new InvalidContextError('streamShardCount', 'is required when streamMode is PROVISIONED (e.g. -c streamShardCount=2)');
  }
  if (streamMode === 'ON_DEMAND' && streamShardCount !== undefined) {
    throw new InvalidContextError(
      'streamShardCount',
      `applies only when streamMode is PROVISIONED; got ${streamShardCount} with ON_DEMAND`,
    );
  }
  const pullerTimeoutSeconds = readInteger(read, 'pullerTimeoutSeconds', 10, 900);
  const runBudgetSeconds = readInteger(read, 'runBudgetSeconds', 5, 900);
  // The run needs time after its budget to flush records and save cursors before Lambda kills it.
  const minCleanupSeconds = 5;
  if (runBudgetSeconds > pullerTimeoutSeconds - minCleanupSeconds) {
    throw new InvalidContextError(
      'runBudgetSeconds',
      `must be at least ${minCleanupSeconds} s below pullerTimeoutSeconds (${pullerTimeoutSeconds}), got ${runBudgetSeconds}`,
    );
  }
  const logRetentionDays = readInteger(read, 'logRetentionDays', 1, 3653);
  if (!LOG_RETENTION_DAYS.has(logRetentionDays)) {
    throw new InvalidContextError(
      'logRetentionDays',
      `must be one of CloudWatch Logs' retention periods (${[...LOG_RETENTION_DAYS].sort((a, b) => a - b).join(', ')}), got ${logRetentionDays}`,
    );
  }
  return {
    sourceSecretPrefix: readSecretPrefix(read('sourceSecretPrefix')),
    alarmEmail: readOptionalEmail(read, 'alarmEmail'),
    alarmHttpsEndpoint: readOptionalHttpsUrl(read, 'alarmHttpsEndpoint'),
    alertsEmail: readOptionalEmail(read, 'alertsEmail'),
    streamMode,
    streamShardCount,
    streamRetentionHours: readInteger(read, 'streamRetentionHours', 24, 8760),
    quarantineExpirationDays: readInteger(read, 'quarantineExpirationDays', 1, 3650),
    pullerMemoryMb: readInteger(read, 'pullerMemoryMb', 128, 10240),
    pullerTimeoutSeconds,
    runBudgetSeconds,
    rateLimitReservePercent: readInteger(read, 'rateLimitReservePercent', 0, 90),
    pullerShards: readInteger(read, 'pullerShards', 1, MAX_PULLER_SHARDS),
    logRetentionDays: logRetentionDays as RetentionDays,
    logLevel: readLogLevel(read('logLevel')),
    runbookBaseUrl: readRunbookBaseUrl(read('runbookBaseUrl')),
    archive: readBoolean(read, 'archive'),
    // Above the 30 days after which objects move to Glacier Instant Retrieval (lib/archive.ts).
    archiveRetentionDays: readInteger(read, 'archiveRetentionDays', 31, 3650),
  };
}

/** `-c archive=false` arrives as the string "false", cdk.json gives the boolean: both are accepted. */
function readBoolean(read: ContextReader, key: ContextKey & 'archive'): boolean {
  const value = read(key) ?? CONTEXT_DEFAULTS[key];
  if (value === true || value === 'true') return true;
  if (value === false || value === 'false') return false;
  throw new InvalidContextError(key, `must be true or false, got ${describe(value)}`);
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function readSecretPrefix(value: unknown): string {
  const prefix = value ?? CONTEXT_DEFAULTS.sourceSecretPrefix;
  if (typeof prefix !== 'string' || prefix.length === 0 || prefix.length > MAX_PREFIX_LENGTH || !SECRET_NAME_CHARS.test(prefix)) {
    throw new InvalidContextError(
      'sourceSecretPrefix',
      `must be 1-${MAX_PREFIX_LENGTH} characters of A-Z a-z 0-9 / _ + = . @ - (a Secrets Manager name prefix), got ${describe(value)}`,
    );
  }
  return prefix;
}

function readStreamMode(value: unknown): 'ON_DEMAND' | 'PROVISIONED' {
  const mode = value ?? CONTEXT_DEFAULTS.streamMode;
  if (mode !== 'ON_DEMAND' && mode !== 'PROVISIONED') {
    throw new InvalidContextError('streamMode', `must be ON_DEMAND or PROVISIONED, got ${describe(value)}`);
  }
  return mode;
}

function readLogLevel(value: unknown): LogLevel {
  const level = value ?? CONTEXT_DEFAULTS.logLevel;
  const known: readonly unknown[] = LOG_LEVELS;
  if (!known.includes(level)) {
    throw new InvalidContextError('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${describe(value)}`);
  }
  return level as LogLevel;
}

/** `-c key=5` arrives as the string "5", cdk.json gives the number 5: both are accepted. */
function toInteger(key: ContextKey, value: unknown, min: number, max: number): number {
  const parsed = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value.trim()) : value;
  if (typeof parsed !== 'number' || !Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new InvalidContextError(key, `must be a whole number from ${min} to ${max}, got ${describe(value)}`);
  }
  return parsed;
}

function readInteger(read: ContextReader, key: ContextKey & keyof typeof CONTEXT_DEFAULTS, min: number, max: number): number {
  const value = read(key);
  return toInteger(key, value ?? CONTEXT_DEFAULTS[key], min, max);
}

function readOptionalInteger(read: ContextReader, key: ContextKey, min: number, max: number): number | undefined {
  const value = read(key);
  return value === undefined || value === '' ? undefined : toInteger(key, value, min, max);
}

function readOptionalEmail(read: ContextReader, key: ContextKey): string | undefined {
  const value = read(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !EMAIL.test(value)) {
    throw new InvalidContextError(key, `must be an e-mail address, got ${describe(value)}`);
  }
  return value;
}

/** An https:// URL without fragment: alarm descriptions append `#<runbook entry>` to it. */
function readRunbookBaseUrl(value: unknown): string {
  const given = value === undefined || value === '' ? CONTEXT_DEFAULTS.runbookBaseUrl : value;
  let url: URL | undefined;
  try {
    url = typeof given === 'string' ? new URL(given) : undefined;
  } catch {
    url = undefined;
  }
  if (url === undefined || url.protocol !== 'https:' || url.hash !== '') {
    throw new InvalidContextError(
      'runbookBaseUrl',
      `must be an https:// URL without a #fragment (the page of docs/ALARMS.md), got ${describe(value)}`,
    );
  }
  return given as string;
}

function readOptionalHttpsUrl(read: ContextReader, key: ContextKey): string | undefined {
  const value = read(key);
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string') {
    throw new InvalidContextError(key, `must be an https:// URL, got a ${typeof value}`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    // The URL may carry an integration key (PagerDuty, Opsgenie), so the value is never echoed.
    throw new InvalidContextError(key, 'must be an https:// URL, got a value that does not parse as a URL', { cause: error });
  }
  if (url.protocol !== 'https:') {
    throw new InvalidContextError(key, `must be an https:// URL, got scheme ${url.protocol}`);
  }
  return value;
}
