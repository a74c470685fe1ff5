/**
 * The whole pipeline on loopback, in one process: emulated Okta orgs with live traffic, kinesalite,
 * dynalite, the Secrets Manager and S3 stand-ins (from `local/aws`), an SNS stand-in for alerts,
 * and the REAL puller and detections handlers, each in its own emulated Lambda container. What
 * `okta-log-pipeline demo` runs, and what the soak wraps: every part it needs to reach
 * is exposed (`orgs[].org.inject`, `aws.kinesisProxy` / `aws.dynamoDbProxy`, the secrets file,
 * extra puller containers for overlapping invocations, `kill()` for aborted runs, every log line).
 *
 * ```ts
 * const pipeline = await startLocalPipeline({ sources: [{ sourceId: 'acme', eventsPerMinute: 120 }] });
 * await pipeline.runPuller();                        // one scheduled invocation
 * const { records, alerts } = await pipeline.pump(); // stream read back, fed to the detections
 * await pipeline.stop();
 * ```
 */
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { sourceSecretString } from '../../lambdas/contracts/source-secret';
import { systemClock } from '../../lambdas/core/clock';
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import { SOURCE_ID_DIMENSION } from '../../lambdas/core/metrics/metric-names';
import { computeSourceMetrics, type SourceMetrics } from '../../lambdas/core/metrics/source-metrics';
import type { Clock } from '../../lambdas/core/ports';
import type { SourceActivity } from '../../lambdas/core/ports';
import type { PullerResult } from '../../lambdas/puller/handler';
import { LOCAL_RESOURCE_NAMES, startLocalAws, type LocalAws } from '../aws/local-aws';
import { LOCAL_REGION } from '../aws/local-credentials';
import type { SecretFileEntry } from '../aws/secrets-manager-server';
import { startOktaOrg, startTraffic, type EmulatedOrg, type LiveTraffic, type TrafficMix } from '../okta-emulator';
import { startLambdaContainer, type LambdaContainer, type LambdaLogLine } from './lambda-container';
import { startSnsServer, type SnsServer } from './sns-server';
import { StreamReader, type StreamRecord } from './stream-reader';

/** The bounds of the local runtime, each mirroring what the stack deploys, so runs behave alike. */
export const LOCAL_PIPELINE_DEFAULTS = {
  /** The stack's puller timeout (`pullerTimeoutSeconds`, 90 s). */
  pullerTimeoutMs: 90_000,
  /** The stack's detections timeout (60 s). */
  detectionsTimeoutMs: 60_000,
  /** The stack's Kinesis event source mapping batch size. */
  detectionsBatchSize: 500,
  /** The stack's event source mapping `retryAttempts`: a batch still failing after them is given up. */
  detectionsRetryAttempts: 3,
  /** The secret format's defaults (`SOURCE_SECRET_LIMITS`, docs/ONBOARDING.md). */
  dropOffMinutes: 60,
  backfillHours: 24,
  /** Okta Workforce orgs' per-minute limit on /api/v1/logs. */
  rateLimitPerMinute: 120,
  /** The puller's own default. */
  runBudgetSeconds: 55,
} as const;

/** The names the stack gives its detections resources; the rest come from `LOCAL_RESOURCE_NAMES`. */
export const LOCAL_DETECTION_NAMES = {
  stateTableName: 'okta-log-pipeline-detection-state',
  alertsTopicArn: `arn:aws:sns:${LOCAL_REGION}:000000000000:okta-log-pipeline-alerts`,
} as const;

/** One emulated Okta org, registered as a source. */
export interface LocalSourceSpec {
  /** The secret name after the prefix (`^[a-z0-9][a-z0-9-]{0,62}$`). */
  readonly sourceId: string;
  /** @default the source id */
  readonly label?: string;
  /** Live traffic; 0 starts none (the caller adds events with `org.generate` / `org.addEvents`). */
  readonly eventsPerMinute: number;
  readonly mix?: TrafficMix;
  /** @default 60 */
  readonly dropOffMinutes?: number;
  /** @default 24 */
  readonly backfillHours?: number;
  /** @default 120 */
  readonly rateLimitPerMinute?: number;
  /** Seed of the org's traffic; give orgs different seeds or their events share uuids. @default index + 1 */
  readonly seed?: number;
}

export interface LocalPipelineOptions {
  readonly sources: readonly LocalSourceSpec[];
  /** Where the secrets file and the Lambda log go. @default a new directory under the OS temp dir */
  readonly workDir?: string;
  /** Time of the orgs and their traffic. The Lambda containers always run on real time. @default systemClock */
  readonly clock?: Clock;
  /** `RUN_BUDGET_SECONDS` of the puller. @default 55 */
  readonly runBudgetSeconds?: number;
  /** @default 90000 */
  readonly pullerTimeoutMs?: number;
  /** More puller environment (e.g. `RATE_LIMIT_RESERVE_PERCENT`, `SECRET_CACHE_SECONDS`). */
  readonly pullerEnv?: Readonly<Record<string, string>>;
  /** `POWERTOOLS_LOG_LEVEL` of both handlers. @default INFO */
  readonly logLevel?: string;
  /** Every line the containers log (also appended to `logFile`). */
  readonly onLogLine?: (line: LambdaLogLine) => void;
  readonly streamShards?: number;
}

export interface LocalOrg {
  readonly sourceId: string;
  readonly label: string;
  readonly dropOffMinutes: number;
  readonly rateLimitPerMinute: number;
  readonly org: EmulatedOrg;
  /** Present while live traffic runs. */
  readonly traffic: LiveTraffic | undefined;
  /** Stops this org's live traffic (its events stay served). */
  stopTraffic(): void;
}

/** A source's metrics as one puller run emitted them (its EMF document, and its quarantine counts summed). */
export interface SourceRunMetrics extends SourceMetrics {
  readonly sourceId: string;
  readonly outcome: string;
  readonly EventsInvalid: number;
}

export interface PullerRun {
  readonly requestId: string;
  readonly result: PullerResult;
  /** Per source, from the EMF documents the run wrote: exactly what CloudWatch would receive. */
  readonly sources: readonly SourceRunMetrics[];
}

export interface DetectionsDelivery {
  /** Records handed to the detections handler. */
  readonly delivered: number;
  /** Messages the handler published to the alerts topic during this delivery. */
  readonly alerts: readonly AlertMessage[];
  /** Records given up after the stack's retry attempts (the handler kept failing on them). */
  readonly abandoned: number;
}

/** A source's health at one moment, computed by the puller's own metric function. */
export interface SourceHealth {
  readonly sourceId: string;
  readonly activity: SourceActivity | undefined;
  readonly metrics: SourceMetrics;
}

/** An invalid event, read back from the quarantine bucket. */
export interface QuarantinedObject {
  readonly key: string;
  readonly sourceId: string;
  readonly event: unknown;
  readonly errors: readonly string[];
}

export interface LocalPipeline {
  readonly orgs: readonly LocalOrg[];
  readonly aws: LocalAws;
  readonly sns: SnsServer;
  readonly workDir: string;
  /** The sources' secrets, in the Secrets Manager format; edit it to onboard, offboard or rotate. */
  readonly secretsFile: string;
  /** Every line the Lambda containers logged: what CloudWatch Logs would hold. */
  readonly logFile: string;
  /** The environment every container gets (without the per-handler extras). */
  readonly env: Readonly<Record<string, string>>;
  /** Invokes the puller in `container` (default: the pipeline's own), as one schedule tick would. */
  runPuller(options?: { readonly container?: LambdaContainer; readonly requestId?: string }): Promise<PullerRun>;
  /** A new, cold puller container: concurrent invocations of the schedule run in separate ones. */
  startPullerContainer(name?: string): Promise<LambdaContainer>;
  /** The pipeline's own puller container; replaced by a cold one after it died (timeout, kill). */
  pullerContainer(): Promise<LambdaContainer>;
  /** Records that reached the stream since the last call (read back from kinesalite). */
  readStream(): Promise<StreamRecord[]>;
  /** Feeds records to the real detections handler as Kinesis event batches, with the stack's retry rules. */
  runDetections(records: readonly StreamRecord[]): Promise<DetectionsDelivery>;
  /** `readStream` then `runDetections`: one poll of the event source mapping. */
  pump(): Promise<{ records: StreamRecord[]; detections: DetectionsDelivery }>;
  /** Each source's health now (drop-off, lag), from its cursor item. */
  health(now?: number): Promise<SourceHealth[]>;
  /** Every object in the quarantine bucket. */
  quarantined(): QuarantinedObject[];
  /** Stops traffic, containers, emulators and stand-ins. */
  stop(): Promise<void>;
}

/** Variables of the invoking shell that must not leak into a container (a real AWS profile, for one). */
const NOT_INHERITED = /^(AWS_|POWERTOOLS_|OKTA_LOG_PIPELINE_)/;

export async function startLocalPipeline(options: LocalPipelineOptions): Promise<LocalPipeline> {
  const clock = options.clock ?? systemClock;
  const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'okta-log-pipeline-'));
  const secretsFile = join(workDir, 'secrets.json');
  const logFile = join(workDir, 'lambda.log');
  const cleanups: Array<() => Promise<void> | void> = [];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };

  try {
    const orgs: LocalOrg[] = [];
    for (const [index, spec] of options.sources.entries()) {
      const rateLimitPerMinute = spec.rateLimitPerMinute ?? LOCAL_PIPELINE_DEFAULTS.rateLimitPerMinute;
      const org = await startOktaOrg({ clock, rateLimitPerMinute, seed: spec.seed ?? index + 1 });
      cleanups.push(() => org.close());
      let traffic: LiveTraffic | undefined =
        spec.eventsPerMinute > 0
          ? startTraffic(org, { eventsPerMinute: spec.eventsPerMinute, clock, ...(spec.mix ? { generate: { mix: spec.mix } } : {}) })
          : undefined;
      const stopTraffic = (): void => {
        traffic?.stop();
        traffic = undefined;
      };
      cleanups.push(stopTraffic);
      orgs.push({
        sourceId: spec.sourceId,
        label: spec.label ?? spec.sourceId,
        dropOffMinutes: spec.dropOffMinutes ?? LOCAL_PIPELINE_DEFAULTS.dropOffMinutes,
        rateLimitPerMinute,
        org,
        get traffic() {
          return traffic;
        },
        stopTraffic,
      });
    }

    const aws = await startLocalAws({
      clock,
      secretsFile: writeSecretsFile(secretsFile, orgs, options.sources),
      ...(options.streamShards ? { streamShards: options.streamShards } : {}),
    });
    cleanups.push(() => aws.close());
    await aws.clients.dynamoDb.send(
      new CreateTableCommand({
        TableName: LOCAL_DETECTION_NAMES.stateTableName,
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const sns = await startSnsServer();
    cleanups.push(() => sns.close());

    const log = createWriteStream(logFile, { flags: 'a', mode: 0o600 });
    cleanups.push(() => new Promise<void>((resolve) => log.end(resolve)));
    const onLogLine = (line: LambdaLogLine): void => {
      log.write(`${line.container} ${line.stream} ${line.line}\n`);
      options.onLogLine?.(line);
    };

    const env: Record<string, string> = {
      ...inheritedEnv(),
      ...aws.env,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'INFO',
      // As Lambda sets it for a container started for an invocation: Powertools reports cold starts only then.
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    };
    const pullerEnv: Record<string, string> = {
      ...env,
      POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-puller',
      RUN_BUDGET_SECONDS: String(options.runBudgetSeconds ?? LOCAL_PIPELINE_DEFAULTS.runBudgetSeconds),
      // Only here, in the local runtime: the emulated orgs live on loopback.
      OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '1',
      ...options.pullerEnv,
    };
    const detectionsEnv: Record<string, string> = {
      ...env,
      POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-detections',
      STATE_TABLE_NAME: LOCAL_DETECTION_NAMES.stateTableName,
      ALERTS_TOPIC_ARN: LOCAL_DETECTION_NAMES.alertsTopicArn,
      AWS_ENDPOINT_URL_SNS: sns.endpoint,
    };

    const containers = new Set<LambdaContainer>();
    cleanups.push(async () => {
      await Promise.all([...containers].map((container) => container.kill('the local pipeline stopped')));
    });
    let containerCount = 0;
    const start = async (kind: 'puller' | 'detections', name?: string): Promise<LambdaContainer> => {
      containerCount += 1;
      const container = await startLambdaContainer({
        kind,
        name: name ?? `${kind}-${containerCount}`,
        env: kind === 'puller' ? pullerEnv : detectionsEnv,
        timeoutMs:
          kind === 'puller'
            ? (options.pullerTimeoutMs ?? LOCAL_PIPELINE_DEFAULTS.pullerTimeoutMs)
            : LOCAL_PIPELINE_DEFAULTS.detectionsTimeoutMs,
        onLogLine,
      });
      containers.add(container);
      return container;
    };
    // One container of each, warm: the schedule reuses them as Lambda reuses a warm environment.
    let [puller, detections] = await Promise.all([start('puller'), start('detections')]);
    const pullerContainer = async (): Promise<LambdaContainer> => {
      if (!puller.alive) puller = await start('puller');
      return puller;
    };
    const detectionsContainer = async (): Promise<LambdaContainer> => {
      if (!detections.alive) detections = await start('detections');
      return detections;
    };

    const reader = new StreamReader(aws.clients.kinesis, aws.names.streamName);
    const cursors = new DynamoDbCursorStore({ client: aws.clients.dynamoDb, tableName: aws.names.cursorTableName, clock });

    const runDetections = async (records: readonly StreamRecord[]): Promise<DetectionsDelivery> => {
      const alertsBefore = sns.published.length;
      let abandoned = 0;
      for (let offset = 0; offset < records.length; offset += LOCAL_PIPELINE_DEFAULTS.detectionsBatchSize) {
        let batch = records.slice(offset, offset + LOCAL_PIPELINE_DEFAULTS.detectionsBatchSize);
        for (let attempt = 0; batch.length > 0; attempt += 1) {
          if (attempt > LOCAL_PIPELINE_DEFAULTS.detectionsRetryAttempts) {
            abandoned += batch.length;
            break;
          }
          const failedFrom = await invokeDetections(await detectionsContainer(), batch, aws.names.streamName);
          // Lambda redelivers from the first reported failure (reportBatchItemFailures).
          batch =
            failedFrom === undefined
              ? []
              : batch.slice(
                  Math.max(
                    0,
                    batch.findIndex((record) => record.sequenceNumber === failedFrom),
                  ),
                );
        }
      }
      return {
        delivered: records.length,
        alerts: sns.published.slice(alertsBefore).map((published) => JSON.parse(published.message) as AlertMessage),
        abandoned,
      };
    };

    return {
      orgs,
      aws,
      sns,
      workDir,
      secretsFile,
      logFile,
      env,
      async runPuller(runOptions = {}) {
        const container = runOptions.container ?? (await pullerContainer());
        const invocation = await container.invoke(
          { source: 'aws.events', 'detail-type': 'Scheduled Event' },
          runOptions.requestId ? { requestId: runOptions.requestId } : {},
        );
        return {
          requestId: invocation.requestId,
          result: invocation.result as PullerResult,
          sources: sourceRunMetrics(invocation.metricLines),
        };
      },
      startPullerContainer: (name) => start('puller', name),
      pullerContainer,
      readStream: () => reader.readNew(),
      runDetections,
      async pump() {
        const records = await reader.readNew();
        return { records, detections: await runDetections(records) };
      },
      async health(now = clock.now()) {
        const activity = await cursors.activity(orgs.map((org) => org.sourceId));
        return orgs.map((org) => {
          const item = activity.get(org.sourceId);
          const metrics = computeSourceMetrics(
            { pages: 0, delivered: 0, invalid: 0, rateLimitWaits: 0, failed: false, authFailed: false },
            { ...item, firstSeenAt: item?.firstSeenAt ?? now },
            org.dropOffMinutes,
            now,
          );
          return { sourceId: org.sourceId, activity: item, metrics };
        });
      },
      quarantined() {
        return [...aws.s3.objects(aws.names.quarantineBucketName).entries()].map(([key, object]) => {
          const body = JSON.parse(object.body.toString('utf8')) as { sourceId: string; event: unknown; errors: string[] };
          return { key, sourceId: body.sourceId, event: body.event, errors: body.errors };
        });
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

function writeSecretsFile(path: string, orgs: readonly LocalOrg[], specs: readonly LocalSourceSpec[]): string {
  const entries: SecretFileEntry[] = orgs.map((org, index) => ({
    Name: `${LOCAL_RESOURCE_NAMES.sourceSecretPrefix}${org.sourceId}`,
    Description: `Emulated Okta org of the local pipeline (${org.label})`,
    SecretString: sourceSecretString({
      domain: org.org.origin,
      apiToken: org.org.apiToken,
      label: org.label,
      dropOffMinutes: org.dropOffMinutes,
      backfillHours: specs[index]?.backfillHours ?? LOCAL_PIPELINE_DEFAULTS.backfillHours,
      enabled: true,
    }),
  }));
  // The file holds API tokens, as Secrets Manager would: readable by its owner only.
  writeFileSync(path, `${JSON.stringify(entries, null, 2)}\n`, { mode: 0o600 });
  return path;
}

function inheritedEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !NOT_INHERITED.test(name)) env[name] = value;
  }
  return env;
}

/** Lambda's Kinesis event for a batch of stream records. */
function kinesisEvent(records: readonly StreamRecord[], streamName: string): KinesisStreamEvent {
  const streamArn = `arn:aws:kinesis:${LOCAL_REGION}:000000000000:stream/${streamName}`;
  return {
    Records: records.map((record): KinesisStreamRecord => ({
      awsRegion: LOCAL_REGION,
      eventID: `${record.shardId}:${record.sequenceNumber}`,
      eventName: 'aws:kinesis:record',
      eventSource: 'aws:kinesis',
      eventSourceARN: streamArn,
      eventVersion: '1.0',
      invokeIdentityArn: `arn:aws:iam::000000000000:role/okta-log-pipeline-detections`,
      kinesis: {
        kinesisSchemaVersion: '1.0',
        partitionKey: record.partitionKey,
        sequenceNumber: record.sequenceNumber,
        data: record.data.toString('base64'),
        approximateArrivalTimestamp: record.arrivedAt / 1000,
      },
    })),
  };
}

/** Invokes the detections once; returns the sequence number to redeliver from, if any. */
async function invokeDetections(
  container: LambdaContainer,
  batch: readonly StreamRecord[],
  streamName: string,
): Promise<string | undefined> {
  try {
    const { result } = await container.invoke(kinesisEvent(batch, streamName));
    return (result as KinesisStreamBatchResponse).batchItemFailures[0]?.itemIdentifier;
  } catch {
    // A failed invocation (handler error, timeout) is retried whole, as the event source mapping does;
    // the reason is in the container's log.
    return batch[0]?.sequenceNumber;
  }
}

function sourceRunMetrics(lines: readonly string[]): SourceRunMetrics[] {
  const documents = lines.flatMap((line) => {
    try {
      const document = JSON.parse(line) as Record<string, unknown>;
      const sourceId = document[SOURCE_ID_DIMENSION];
      return typeof sourceId === 'string' ? [{ sourceId, document }] : [];
    } catch {
      return [];
    }
  });
  // EventsInvalid comes in documents of its own, one per quarantine write (quarantineMetricsDocument).
  const invalid = (sourceId: string): number =>
    documents.reduce(
      (sum, { sourceId: id, document }) =>
        sum + (id === sourceId && typeof document.EventsInvalid === 'number' ? document.EventsInvalid : 0),
      0,
    );
  return documents
    .filter(({ document }) => typeof document.Outcome === 'string')
    .map(({ sourceId, document }) => {
      const number = (name: keyof SourceMetrics): number => (typeof document[name] === 'number' ? (document[name] as number) : 0);
      return {
        sourceId,
        outcome: String(document.Outcome),
        EventsDelivered: number('EventsDelivered'),
        EventsInvalid: invalid(sourceId),
        PagesFetched: number('PagesFetched'),
        RateLimited: number('RateLimited'),
        PullErrors: number('PullErrors'),
        AuthFailures: number('AuthFailures'),
        PagingLoops: number('PagingLoops'),
        LagSeconds: number('LagSeconds'),
        MinutesSinceLastEvent: number('MinutesSinceLastEvent'),
        DropOffBreached: number('DropOffBreached'),
      };
    });
}
