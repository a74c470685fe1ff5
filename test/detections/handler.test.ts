/**
 * The detections Lambda against dynalite (real DynamoDB client, table created here) and a loopback
 * SNS server (real SNS client). Each `loadContainer()` imports the handler afresh: a new Lambda
 * container, sharing only the state table, as consecutive or concurrent invocations do.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import type { DetectionRecord } from '../../lambdas/core/detections/record';
import { alertSubject } from '../../lambdas/adapters/aws/alert-publisher';
import { DynamoDbStateStore } from '../../lambdas/adapters/aws/detection-state-store';
import { AdapterCommandRecorder, listedSdkActions, unlistedCommands } from '../infra/authorization/lambda-sdk-calls';
import { lambdaContext } from '../../local/runtime/lambda-context';
import { startSnsServer, type PublishedMessage, type SnsServer } from '../../local/runtime/sns-server';
import { failedLogin, MINUTE, T0 } from './support';

// dynalite ships no types: it exports a factory of a node:http server.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS module: `import =` would type it any
const dynalite = require('dynalite') as (options: { createTableMs: number }) => Server;

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:okta-log-pipeline-alerts';
type Handler = (event: KinesisStreamEvent) => Promise<KinesisStreamBatchResponse>;

let dynamo: Server;
let sns: SnsServer;
let client: DynamoDBClient;
let tableCounter = 0;
const savedEnv = { ...process.env };

beforeAll(async () => {
  dynamo = dynalite({ createTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', resolve));
  sns = await startSnsServer();
  const endpoint = `http://127.0.0.1:${(dynamo.address() as AddressInfo).port}`;
  Object.assign(process.env, {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
    AWS_ENDPOINT_URL_DYNAMODB: endpoint,
    AWS_ENDPOINT_URL_SNS: sns.endpoint,
    ALERTS_TOPIC_ARN: TOPIC_ARN,
    POWERTOOLS_LOG_LEVEL: 'SILENT',
  });
  client = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
});

afterAll(async () => {
  client.destroy();
  await sns.close();
  await new Promise<void>((resolve) => dynamo.close(() => resolve()));
  process.env = savedEnv;
});

let emitted: string[] = [];
/** What this test published: the server is shared by the whole file. */
let publishedBefore = 0;
const published = (): PublishedMessage[] => sns.published.slice(publishedBefore);
beforeEach(async () => {
  tableCounter += 1;
  const tableName = `detection-state-${tableCounter}`;
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  process.env.STATE_TABLE_NAME = tableName;
  publishedBefore = sns.published.length;
  emitted = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    emitted.push(String(chunk));
    return true;
  });
});

afterEach(() => {
  jest.restoreAllMocks();
});

// Every command the handler's adapters send must be in API_CALLS (checked by the last test).
const recorder = new AdapterCommandRecorder();
afterAll(() => recorder.restore());

let invocation = 0;
function loadContainer(): Handler {
  let handler: typeof import('../../lambdas/detections/handler').handler | undefined;
  jest.isolateModules(() => {
    // The fresh registry loads its own SDK clients: intercept those.
    recorder.attach();
    // A fresh module registry: the handler's module-level clients are built again, as in a new container.
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- must load inside isolateModules, after the recorder is attached
    ({ handler } = require('../../lambdas/detections/handler') as typeof import('../../lambdas/detections/handler'));
  });
  const loaded = handler;
  if (!loaded) throw new Error('handler not loaded');
  return (event) => {
    invocation += 1;
    return loaded(
      event,
      lambdaContext({
        functionName: 'okta-log-pipeline-detections',
        requestId: `invocation-${invocation}`,
        getRemainingTimeInMillis: () => 60_000,
      }),
    );
  };
}

let sequence = 0;
function kinesisEvent(records: Array<DetectionRecord | string>): KinesisStreamEvent {
  return {
    Records: records.map((record) => {
      sequence += 1;
      const data = typeof record === 'string' ? record : JSON.stringify({ ...record, p_source_id: 'acme', p_log_type: 'Okta.SystemLog' });
      return {
        eventID: `shardId-000000000000:${sequence}`,
        eventName: 'aws:kinesis:record',
        eventSource: 'aws:kinesis',
        eventVersion: '1.0',
        eventSourceARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/okta',
        awsRegion: 'us-east-1',
        invokeIdentityArn: 'arn:aws:iam::123456789012:role/detections',
        kinesis: {
          kinesisSchemaVersion: '1.0',
          partitionKey: typeof record === 'string' ? 'x' : String(record.uuid),
          sequenceNumber: String(sequence).padStart(20, '0'),
          data: Buffer.from(data, 'utf8').toString('base64'),
          approximateArrivalTimestamp: 0,
        },
      };
    }),
  };
}

function alerts(): AlertMessage[] {
  return published().map((item) => JSON.parse(item.message) as AlertMessage);
}

/** The lines written to stdout, each a JSON object (Powertools Logger's and the EMF documents). */
function emittedLines(): Array<Record<string, unknown>> {
  return emitted
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The detection metrics of the EMF documents written to stdout. */
function metricDocuments(): Array<{ dimensions: unknown; metrics: unknown; AlertsRaised: unknown; DetectionErrors: unknown }> {
  return emittedLines()
    .filter((line) => '_aws' in line)
    .map(
      (line) =>
        line as {
          _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: unknown; Metrics: unknown }> };
          AlertsRaised: unknown;
          DetectionErrors: unknown;
        },
    )
    .map((doc) => {
      // Literal on purpose: the namespace users' alarms and dashboards name is the interface checked here.
      expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('OktaLogPipeline');
      return {
        dimensions: doc._aws.CloudWatchMetrics[0].Dimensions,
        metrics: doc._aws.CloudWatchMetrics[0].Metrics,
        AlertsRaised: doc.AlertsRaised,
        DetectionErrors: doc.DetectionErrors,
      };
    });
}

/** As the detections' EMF documents declare their metrics (names and units are interfaces: literal on purpose). */
const DETECTION_METRIC_DEFINITIONS = [
  { Name: 'AlertsRaised', Unit: 'Count' },
  { Name: 'DetectionErrors', Unit: 'Count' },
];

describe('detections Lambda', () => {
  it('counts a threshold across invocations of different containers through DynamoDB and publishes one alert', async () => {
    const failures = [0, 1, 2, 3, 4, 5].map((minute) => failedLogin(T0 + minute * MINUTE));
    const first = loadContainer();
    expect(await first(kinesisEvent(failures.slice(0, 3)))).toEqual({ batchItemFailures: [] });
    expect(published()).toEqual([]);

    const second = loadContainer();
    expect(await second(kinesisEvent(failures.slice(3, 5)))).toEqual({ batchItemFailures: [] });
    expect(published()).toHaveLength(1);
    expect(published()[0]).toMatchObject({
      topicArn: TOPIC_ARN,
      subject: '[MEDIUM] Suspected brute force Okta logins to account jack@acme.io, due to [INVALID_CREDENTIALS]',
      attributes: { ruleId: 'Okta.BruteForceLogins', severity: 'MEDIUM', status: 'new' },
    });
    expect(alerts()[0]).toMatchObject({
      status: 'new',
      sourceId: 'acme',
      eventCount: 5,
      eventUuids: failures.slice(0, 5).map((failure) => failure.uuid),
    });

    await first(kinesisEvent(failures.slice(5)));
    expect(alerts().map((alert) => [alert.status, alert.eventCount])).toEqual([
      ['new', 5],
      ['updated', 6],
    ]);
    expect(metricDocuments()).toEqual([
      { dimensions: [[]], metrics: DETECTION_METRIC_DEFINITIONS, AlertsRaised: 0, DetectionErrors: 0 },
      { dimensions: [[]], metrics: DETECTION_METRIC_DEFINITIONS, AlertsRaised: 1, DetectionErrors: 0 },
      { dimensions: [[]], metrics: DETECTION_METRIC_DEFINITIONS, AlertsRaised: 0, DetectionErrors: 0 },
    ]);
  });

  it('reports the record whose alert could not be published, and the redelivery publishes it without double counting', async () => {
    const failures = [0, 1, 2, 3, 4].map((minute) => failedLogin(T0 + minute * MINUTE));
    const handler = loadContainer();
    sns.refuse(1);
    const event = kinesisEvent(failures);
    const response = await handler(event);
    const fifth = event.Records[4].kinesis.sequenceNumber;
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: fifth }] });
    expect(published()).toEqual([]);
    expect(metricDocuments()).toEqual([{ dimensions: [[]], metrics: DETECTION_METRIC_DEFINITIONS, AlertsRaised: 0, DetectionErrors: 1 }]);

    // Lambda redelivers from the reported record on; with bisection the whole batch may come again.
    expect(await handler({ Records: event.Records.slice(4) })).toEqual({ batchItemFailures: [] });
    expect(await handler(event)).toEqual({ batchItemFailures: [] });
    expect(alerts().map((alert) => [alert.status, alert.eventCount])).toEqual([
      ['new', 5],
      ['new', 5],
    ]);
    expect(new Set(alerts().map((alert) => alert.alertId)).size).toBe(1);
  });

  it('skips and counts records that can never be judged, without failing the batch', async () => {
    const handler = loadContainer();
    const response = await handler(kinesisEvent(['not json', '[1,2]', { ...failedLogin(T0), published: 'redacted' }]));
    expect(response).toEqual({ batchItemFailures: [] });
    expect(metricDocuments()).toEqual([{ dimensions: [[]], metrics: DETECTION_METRIC_DEFINITIONS, AlertsRaised: 0, DetectionErrors: 3 }]);
  });

  it('two concurrent containers cannot double-count: conditional writes serialise the count', async () => {
    const failures = Array.from({ length: 10 }, (_, index) => failedLogin(T0 + index * 1000));
    const a = loadContainer();
    const b = loadContainer();
    /** Invokes like the event source mapping: a reported record is redelivered with the rest after it. */
    async function deliver(handler: Handler, event: KinesisStreamEvent): Promise<number> {
      let pending = event.Records;
      let redeliveries = 0;
      for (;;) {
        const { batchItemFailures } = await handler({ Records: pending });
        if (batchItemFailures.length === 0) return redeliveries;
        const from = pending.findIndex((record) => record.kinesis.sequenceNumber === batchItemFailures[0].itemIdentifier);
        expect(from).toBeGreaterThanOrEqual(0);
        pending = pending.slice(from);
        redeliveries += 1;
        expect(redeliveries).toBeLessThan(10);
      }
    }
    await Promise.all([
      deliver(a, kinesisEvent(failures.filter((_, index) => index % 2 === 0))),
      deliver(b, kinesisEvent(failures.filter((_, index) => index % 2 === 1))),
    ]);
    const sent = alerts();
    expect(sent.filter((alert) => alert.status === 'new')).toHaveLength(1);
    expect(Math.max(...sent.map((alert) => alert.eventCount))).toBe(10);
    const stored = await new DynamoDbStateStore(client, String(process.env.STATE_TABLE_NAME)).get(
      'group|Okta.BruteForceLogins|acme|jack@acme.io',
    );
    expect(stored?.value).toMatchObject({ count: 10 });
    expect((stored?.value.uuids as string[]).slice().sort()).toEqual(failures.map((failure) => String(failure.uuid)).sort());
  });
});

describe('detections Lambda log lines', () => {
  it("every line, log or metrics, carries the invocation's request id and cold start", async () => {
    process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
    // Set by Lambda in an on-demand container ("AWS_LAMBDA_INITIALIZATION_TYPE", reserved environment
    // variables, https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); Powertools reports cold starts only then.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    // Powertools writes warnings and errors to stderr: both streams are the function's log.
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      emitted.push(String(chunk));
      return true;
    });
    try {
      const handler = loadContainer();
      await handler(kinesisEvent(['not json', failedLogin(T0)]));
      const first = `invocation-${invocation}`;
      await handler(kinesisEvent([failedLogin(T0 + MINUTE)]));
      const second = `invocation-${invocation}`;

      const lines = emittedLines();
      expect(lines.map((line) => [line.message ?? 'metrics', line.function_request_id, line.cold_start])).toEqual([
        ['record skipped', first, true],
        ['batch judged', first, true],
        ['metrics', first, true],
        ['batch judged', second, false],
        ['metrics', second, false],
      ]);
      expect(lines[0]).toMatchObject({
        level: 'WARN',
        service: 'okta-log-pipeline-detections',
        function_name: 'okta-log-pipeline-detections',
        reason: expect.any(String),
      });
      expect(lines[1]).toMatchObject({ level: 'INFO', records: 2, processed: 2, alertsRaised: 0 });
    } finally {
      process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
      delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
    }
  });
});

describe('detections Lambda configuration', () => {
  it('fails the invocation naming the missing variable', async () => {
    delete process.env.STATE_TABLE_NAME;
    const handler = loadContainer();
    await expect(handler(kinesisEvent([failedLogin(T0)]))).rejects.toThrow(
      'detections Lambda: environment variable STATE_TABLE_NAME is not set; the stack must pass it',
    );
  });
});

describe('alertSubject', () => {
  it('fits SNS: printable ASCII, at most 100 characters, updates marked', () => {
    const base = {
      severity: 'HIGH',
      title: `Geographically improbable login for user [\u00e9ric@acme.io] from [Z\u00fcrich]  to [${'x'.repeat(80)}]`,
    } as const;
    const subject = alertSubject({ ...(base as unknown as AlertMessage), status: 'new' });
    expect(subject).toHaveLength(100);
    expect(subject).toMatch(/^\[HIGH\] Geographically improbable login for user \[\?ric@acme\.io\] from \[Z\?rich\] {2}to \[x+\.\.\.$/);
    expect(alertSubject({ ...(base as unknown as AlertMessage), status: 'updated', title: 'short' })).toBe('Updated: [HIGH] short');
  });
});

describe('DynamoDbStateStore', () => {
  it('writes only over the version it read, and stores expiresAt for the TTL', async () => {
    const store = new DynamoDbStateStore(client, String(process.env.STATE_TABLE_NAME));
    expect(await store.get('k')).toBeUndefined();
    expect(await store.put('k', { n: 1 }, 1_900_000_000, undefined)).toBe(true);
    expect(await store.put('k', { n: 2 }, 1_900_000_000, undefined)).toBe(false);
    expect(await store.get('k')).toEqual({ value: { n: 1 }, version: 1, expiresAt: 1_900_000_000 });
    expect(await store.put('k', { n: 2 }, 1_900_000_060, 1)).toBe(true);
    expect(await store.put('k', { n: 3 }, 1_900_000_060, 1)).toBe(false);
    expect(await store.get('k')).toEqual({ value: { n: 2 }, version: 2, expiresAt: 1_900_000_060 });
  });

  it('names the table and key when the table is missing', async () => {
    const store = new DynamoDbStateStore(client, 'no-such-table');
    await expect(store.get('k')).rejects.toThrow(/detection state table no-such-table: GetItem failed for k: ResourceNotFoundException/);
  });
});

describe('the AWS calls the handler sent', () => {
  it('are each listed in API_CALLS, which the authorization test proves against the template', () => {
    expect(unlistedCommands(recorder.sent)).toEqual([]);
    expect(new Set(recorder.sent.map((command) => command.action))).toEqual(listedSdkActions('detections'));
  });
});
