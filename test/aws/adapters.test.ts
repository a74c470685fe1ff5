import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { KinesisRecordSink } from '../../lambdas/adapters/aws/kinesis-record-sink';
import { S3Quarantine } from '../../lambdas/adapters/aws/s3-quarantine';
import { SecretsManagerSourceRegistry } from '../../lambdas/adapters/aws/secrets-manager-source-registry';
import { CursorStoreError, KinesisWriteError, QuarantineWriteError, SourceListingError } from '../../lambdas/adapters/aws/errors';
import type { OutputRecord, SerializedRecord } from '../../lambdas/core/ports';
import { readStream } from '../../local/aws/kinesis';
import { startLocalAws, type LocalAws } from '../../local/aws/local-aws';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { VirtualClock } from '../support/virtual-clock';
import { AdapterCommandRecorder, listedSdkActions, unlistedCommands } from '../infra/authorization/lambda-sdk-calls';

const TOKEN = '00SECRETtokenVALUEabcdefghijklmnopqrstuvwx';
const PREFIX = 'okta-log-pipeline/sources/';

// Every command the adapters send in these tests must be in API_CALLS (checked by the last test).
const recorder = new AdapterCommandRecorder();
beforeAll(() => recorder.attach());
afterAll(() => recorder.restore());

let aws: LocalAws;
beforeEach(async () => {
  aws = await startLocalAws({ secretsListPageLimit: 2 });
});
afterEach(async () => {
  await aws.close();
});

function sourceSecret(fields: Record<string, unknown> = {}): string {
  return JSON.stringify({ domain: 'https://acme.okta.com', apiToken: TOKEN, ...fields });
}

async function createSecret(name: string, secretString: string): Promise<void> {
  await aws.clients.secretsManager.send(new CreateSecretCommand({ Name: name, SecretString: secretString }));
}

/** A record as the pull core hands it to a sink: serialised. */
function record(uuid: string, extra: Record<string, unknown> = {}): SerializedRecord {
  const fields: OutputRecord = {
    uuid,
    published: '2026-01-01T00:00:00.000Z',
    p_log_type: 'Okta.SystemLog',
    p_event_time: '2026-01-01 00:00:00.000000000',
    p_parse_time: '2026-01-01 00:00:01.000000000',
    p_row_id: `row-${uuid}`,
    p_source_id: 'acme',
    p_source_label: 'Acme',
    ...extra,
  };
  return { uuid, json: JSON.stringify(fields) };
}

describe('SecretsManagerSourceRegistry', () => {
  function registry(clock = new VirtualClock(), cacheTtlMs?: number): SecretsManagerSourceRegistry {
    return new SecretsManagerSourceRegistry({ client: aws.clients.secretsManager, prefix: PREFIX, clock, cacheTtlMs });
  }

  it('lists every source under the prefix across pages, and reports bad secrets without stopping the others', async () => {
    await createSecret(`${PREFIX}acme`, sourceSecret());
    await createSecret(`${PREFIX}beta`, sourceSecret({ domain: 'https://beta.oktapreview.com', enabled: false }));
    await createSecret(`${PREFIX}broken`, sourceSecret({ dropOffMinutes: 0 }));
    await createSecret(`${PREFIX}not-json`, `{"apiToken": "${TOKEN}"`);
    await createSecret(`${PREFIX}Bad_Name`, sourceSecret());
    await createSecret('someone-else/acme', sourceSecret());

    const { sources, problems } = await registry().list();

    expect(sources.map((source) => [source.id, source.enabled])).toEqual([
      ['acme', true],
      ['beta', false],
    ]);
    expect(problems.map((problem) => problem.sourceId).sort()).toEqual(['Bad_Name', 'broken', 'not-json']);
    expect(problems.find((problem) => problem.sourceId === 'broken')?.message).toMatch(
      /^source broken: invalid secret: dropOffMinutes must be/,
    );
    expect(JSON.stringify(problems)).not.toContain(TOKEN);
    expect(aws.secretsManager.calls.filter((call) => call.operation === 'ListSecrets')).toHaveLength(3);
    // An invalid name is refused from the listing alone: its value is never fetched.
    expect(aws.secretsManager.calls.some((call) => call.operation === 'GetSecretValue' && call.secretId === `${PREFIX}Bad_Name`)).toBe(
      false,
    );
  });

  const reads = (id: string): number =>
    aws.secretsManager.calls.filter((call) => call.operation === 'GetSecretValue' && call.secretId === `${PREFIX}${id}`).length;

  it('caches secrets for minutes, re-reads a changed or expired one, and drops deleted ones', async () => {
    const clock = new VirtualClock();
    const sources = registry(clock, 10 * 60_000);
    await createSecret(`${PREFIX}acme`, sourceSecret());
    await createSecret(`${PREFIX}beta`, sourceSecret());

    await sources.list();
    clock.advance(60_000);
    const second = await sources.list();
    expect([reads('acme'), reads('beta')]).toEqual([1, 1]);

    await aws.clients.secretsManager.send(
      new PutSecretValueCommand({ SecretId: `${PREFIX}acme`, SecretString: sourceSecret({ label: 'Rotated' }) }),
    );
    const third = await sources.list();
    expect([reads('acme'), reads('beta')]).toEqual([2, 1]);
    expect(third.sources.find((source) => source.id === 'acme')?.label).toBe('Rotated');
    // The unchanged configuration is the same object, so per-source clients built on it are kept.
    expect(third.sources.find((source) => source.id === 'beta')).toBe(second.sources.find((source) => source.id === 'beta'));

    clock.advance(10 * 60_000);
    await sources.list();
    expect([reads('acme'), reads('beta')]).toEqual([3, 2]);

    await aws.clients.secretsManager.send(new DeleteSecretCommand({ SecretId: `${PREFIX}beta`, ForceDeleteWithoutRecovery: true }));
    expect((await sources.list()).sources.map((source) => source.id)).toEqual(['acme']);
  });

  describe('does not depend on ListSecrets, which "might not reflect changes from the last five minutes" (https://docs.aws.amazon.com/sdk-for-python/v1/reference/clients/secrets-manager/operations/list_secrets/)', () => {
    it('refresh reads a token rotated behind a stale listing at once, and the next listing serves it without another read', async () => {
      const clock = new VirtualClock();
      const sources = registry(clock);
      await createSecret(`${PREFIX}acme`, sourceSecret());
      const [before] = (await sources.list()).sources;
      const thaw = aws.secretsManager.freezeListing();
      await aws.clients.secretsManager.send(
        new PutSecretValueCommand({ SecretId: `${PREFIX}acme`, SecretString: sourceSecret({ apiToken: `${TOKEN}2` }) }),
      );

      // The stale listing still shows the old version, and the cache is fresh: list alone would keep the old token.
      expect((await sources.list()).sources[0]).toBe(before);
      const refreshed = await sources.refresh('acme');

      expect(refreshed).toMatchObject({ status: 'current', source: { id: 'acme', credential: { kind: 'apiToken', token: `${TOKEN}2` } } });
      clock.advance(60_000);
      const afterRefresh = (await sources.list()).sources[0];
      expect(afterRefresh).toBe(refreshed.status === 'current' ? refreshed.source : undefined);
      // The listing still shows the superseded version: that is no reason to read again, now or when it catches up.
      expect(reads('acme')).toBe(2);
      thaw();
      await sources.list();
      expect(reads('acme')).toBe(2);
    });

    it('refresh of an unchanged secret answers the cached configuration object itself', async () => {
      await createSecret(`${PREFIX}acme`, sourceSecret());
      const sources = registry();
      const [listed] = (await sources.list()).sources;

      expect(await sources.refresh('acme')).toEqual({ status: 'current', source: listed });
      expect(((await sources.refresh('acme')) as { source: unknown }).source).toBe(listed);
    });

    it('re-reads every secret once the cache time has passed, even when the listing never changes', async () => {
      const clock = new VirtualClock();
      const sources = registry(clock, 5 * 60_000);
      await createSecret(`${PREFIX}acme`, sourceSecret());
      await sources.list();
      const thaw = aws.secretsManager.freezeListing();
      await aws.clients.secretsManager.send(
        new PutSecretValueCommand({ SecretId: `${PREFIX}acme`, SecretString: sourceSecret({ label: 'Edited' }) }),
      );

      clock.advance(4 * 60_000);
      expect((await sources.list()).sources[0]?.label).toBe('acme');
      clock.advance(60_000);
      expect((await sources.list()).sources[0]?.label).toBe('Edited');
      expect(reads('acme')).toBe(2);
      thaw();
    });
  });

  describe('a secret scheduled for deletion is an offboarded source, never a problem (GetSecretValue answers InvalidRequestException "marked for deletion")', () => {
    it('drops it from the listing even while the stale listing still shows it, and refresh says offboarded', async () => {
      const clock = new VirtualClock();
      const sources = registry(clock, 60_000);
      await createSecret(`${PREFIX}acme`, sourceSecret());
      await createSecret(`${PREFIX}beta`, sourceSecret());
      await sources.list();
      aws.secretsManager.freezeListing();
      await aws.clients.secretsManager.send(new DeleteSecretCommand({ SecretId: `${PREFIX}beta`, RecoveryWindowInDays: 7 }));
      clock.advance(60_000);

      const { sources: listed, problems } = await sources.list();

      expect(listed.map((source) => source.id)).toEqual(['acme']);
      expect(problems).toEqual([]);
      expect(await sources.refresh('beta')).toEqual({ status: 'offboarded' });
      expect(await sources.refresh('never-existed')).toEqual({ status: 'offboarded' });
    });

    it('clears a broken secret’s problem at the next listing once it is fixed or deleted, stale listing or not', async () => {
      const clock = new VirtualClock();
      const sources = registry(clock);
      await createSecret(`${PREFIX}fixed`, sourceSecret({ dropOffMinutes: 0 }));
      await createSecret(`${PREFIX}removed`, sourceSecret({ dropOffMinutes: 0 }));
      expect((await sources.list()).problems.map((problem) => problem.sourceId).sort()).toEqual(['fixed', 'removed']);
      aws.secretsManager.freezeListing();
      await aws.clients.secretsManager.send(new PutSecretValueCommand({ SecretId: `${PREFIX}fixed`, SecretString: sourceSecret() }));
      await aws.clients.secretsManager.send(new DeleteSecretCommand({ SecretId: `${PREFIX}removed`, RecoveryWindowInDays: 7 }));
      clock.advance(60_000);

      const { sources: listed, problems } = await sources.list();

      expect(listed.map((source) => source.id)).toEqual(['fixed']);
      expect(problems).toEqual([]);
    });

    it('reports other refusals of GetSecretValue as problems, as before', async () => {
      await createSecret(`${PREFIX}acme`, sourceSecret());
      aws.secretsManager.inject({
        operation: 'GetSecretValue',
        type: 'InvalidRequestException',
        message: 'The secret is managed by another service.',
      });

      expect((await registry().list()).problems).toEqual([
        {
          sourceId: 'acme',
          message: `source acme: cannot read secret ${PREFIX}acme: InvalidRequestException: The secret is managed by another service.`,
        },
      ]);
    });
  });

  it('returns the same configuration object while the secret is cached', async () => {
    await createSecret(`${PREFIX}acme`, sourceSecret());
    const sources = registry();

    const first = await sources.list();
    const second = await sources.list();

    expect(second.sources[0]).toBe(first.sources[0]);
  });

  it('keeps a cached source when a re-read fails, and reports a source it could never read', async () => {
    const clock = new VirtualClock();
    const sources = registry(clock, 60_000);
    await createSecret(`${PREFIX}acme`, sourceSecret());
    await sources.list();
    await createSecret(`${PREFIX}beta`, sourceSecret());
    clock.advance(120_000);
    aws.secretsManager.inject({ operation: 'GetSecretValue', type: 'AccessDeniedException', message: 'not allowed' }, 2);

    const { sources: listed, problems } = await sources.list();

    expect(listed.map((source) => source.id)).toEqual(['acme']);
    expect(problems).toEqual([
      { sourceId: 'beta', message: `source beta: cannot read secret ${PREFIX}beta: AccessDeniedException: not allowed` },
    ]);
  });

  it('fails the listing as a whole when ListSecrets fails', async () => {
    aws.secretsManager.inject({ operation: 'ListSecrets', type: 'AccessDeniedException', message: 'no ListSecrets' });

    await expect(registry().list()).rejects.toThrow(SourceListingError);
  });
});

// The lease, fencing and cursor rules are the CursorStore contract, run against this store too
// (test/pull/cursor-stores.test.ts); what is here is DynamoDB's own: batched reads, SDK errors.
describe('DynamoDbCursorStore', () => {
  function store(clock: VirtualClock, client: DynamoDBClient = aws.clients.dynamoDb): DynamoDbCursorStore {
    return new DynamoDbCursorStore({ client, tableName: aws.names.cursorTableName, clock });
  }

  it('reads the activity of more sources than one BatchGetItem takes (100 keys), with the first time each was seen', async () => {
    const clock = new VirtualClock();
    const cursors = store(clock);
    const firstSeen = clock.now();
    await cursors.acquire('acme', 'run-1', 1_000);
    await cursors.save('acme', 'run-1', { lastEventAt: 42, updatedAt: 43 });
    clock.advance(5_000);
    await cursors.acquire('acme', 'run-2', 1_000);

    const activity = await cursors.activity(['acme', 'never-seen', ...Array.from({ length: 150 }, (_, index) => `s${index}`)]);

    expect([...activity.keys()]).toEqual(['acme']);
    expect(activity.get('acme')).toEqual({ lastEventAt: 42, updatedAt: 43, firstSeenAt: firstSeen });
  });

  it('reports a failing table as CursorStoreError, and survives a throttled call through the SDK retries', async () => {
    const clock = new VirtualClock();
    const throughProxy = new DynamoDBClient({
      endpoint: aws.dynamoDbProxy.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 2,
    });
    const cursors = store(clock, throughProxy);
    try {
      aws.dynamoDbProxy.inject({ kind: 'error', operation: 'UpdateItem', status: 400, type: 'ProvisionedThroughputExceededException' });
      expect(await cursors.acquire('acme', 'run-1', 1_000)).toEqual({ cursor: {} });

      aws.dynamoDbProxy.inject({ kind: 'error', operation: 'UpdateItem', status: 500, type: 'InternalServerError' }, 2);
      await expect(cursors.save('acme', 'run-1', {})).rejects.toThrow(CursorStoreError);
      const item = await aws.clients.dynamoDb.send(
        new GetItemCommand({ TableName: aws.names.cursorTableName, Key: { sourceId: { S: 'acme' } } }),
      );
      expect(item.Item?.leaseOwner?.S).toBe('run-1');
    } finally {
      throughProxy.destroy();
    }
  });
});

describe('KinesisRecordSink', () => {
  function sink(clock: VirtualClock, random = () => 0.5): { sink: KinesisRecordSink; client: KinesisClient } {
    const client = new KinesisClient({
      endpoint: aws.kinesisProxy.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      requestHandler: new NodeHttpHandler(),
      maxAttempts: 1,
    });
    return { sink: new KinesisRecordSink({ client, streamName: aws.names.streamName, clock, random }), client };
  }

  it('writes every record once, keyed by uuid, in batches of at most 500', async () => {
    const { sink: kinesis, client } = sink(new VirtualClock());
    const records = Array.from({ length: 1201 }, (_, index) => record(`uuid-${index}`));

    const { rejected } = await kinesis.write(records);
    client.destroy();

    expect(rejected).toEqual([]);
    expect(aws.kinesisProxy.calls.map((call) => call.entries)).toEqual([500, 500, 201]);
    const stored = await readStream(aws.clients.kinesis, aws.names.streamName);
    expect(stored.map((entry) => entry.partitionKey).sort()).toEqual(records.map((entry) => entry.uuid).sort());
    expect(stored[0]?.data.toString('utf8')).toBe(records.find((entry) => entry.uuid === stored[0]?.partitionKey)?.json);
  });

  it('keeps each PutRecords call under 5 MiB', async () => {
    const { sink: kinesis, client } = sink(new VirtualClock());
    const big = 'x'.repeat(900 * 1024);

    await kinesis.write(Array.from({ length: 12 }, (_, index) => record(`big-${index}`, { padding: big })));
    client.destroy();

    expect(aws.kinesisProxy.calls.map((call) => call.entries)).toEqual([5, 5, 2]);
  });

  it('retries only the failed entries, with jittered backoff in clock time', async () => {
    const clock = new VirtualClock();
    const { sink: kinesis, client } = sink(clock);
    aws.kinesisProxy.inject({ kind: 'kinesis-partial', failEntry: (index) => index % 3 === 0 });
    aws.kinesisProxy.inject({ kind: 'kinesis-partial', failEntry: (index) => index === 0, errorCode: 'InternalFailure' });

    await kinesis.write(Array.from({ length: 9 }, (_, index) => record(`uuid-${index}`)));
    client.destroy();

    expect(aws.kinesisProxy.calls.map((call) => [call.entries, call.fault])).toEqual([
      [9, 'kinesis-partial'],
      [3, 'kinesis-partial'],
      [1, undefined],
    ]);
    expect(clock.slept).toEqual([50, 100]);
    const stored = await readStream(aws.clients.kinesis, aws.names.streamName);
    expect(stored.map((entry) => entry.partitionKey).sort()).toEqual(Array.from({ length: 9 }, (_, index) => `uuid-${index}`).sort());
  });

  it('gives up after the bounded attempts and says how many records are not durable', async () => {
    const { sink: kinesis, client } = sink(new VirtualClock());
    aws.kinesisProxy.inject({ kind: 'kinesis-partial', failEntry: (_index, partitionKey) => partitionKey === 'b' }, 5);

    const written = kinesis.write([record('a'), record('b')]);

    await expect(written).rejects.toThrow(
      new KinesisWriteError(
        `stream ${aws.names.streamName}: 1 records still not written after 5 attempts; last: 1 of 1 records failed (ProvisionedThroughputExceededException)`,
        1,
      ),
    );
    client.destroy();
  });

  it('retries a throttled call as a whole, and fails at once on a missing stream', async () => {
    const clock = new VirtualClock();
    const { sink: kinesis, client } = sink(clock);
    aws.kinesisProxy.inject({ kind: 'error', operation: 'PutRecords', status: 400, type: 'ProvisionedThroughputExceededException' });
    await kinesis.write([record('a')]);
    expect(clock.slept).toHaveLength(1);

    const missing = new KinesisRecordSink({ client, streamName: 'no-such-stream', clock });
    await expect(missing.write([record('b')])).rejects.toThrow(/stream no-such-stream: PutRecords failed: ResourceNotFoundException/);
    client.destroy();
  });

  it('returns a record over 1 MiB as rejected with the reason, and writes the rest', async () => {
    const { sink: kinesis, client } = sink(new VirtualClock());
    const huge = record('huge', { padding: 'x'.repeat(1024 * 1024) });

    const { rejected } = await kinesis.write([record('small'), huge]);
    client.destroy();

    expect(rejected).toEqual([
      { record: huge, reason: expect.stringMatching(/^record of \d+ bytes exceeds the Kinesis limit of 1048576 bytes per record$/) },
    ]);
    expect((await readStream(aws.clients.kinesis, aws.names.streamName)).map((entry) => entry.partitionKey)).toEqual(['small']);
  });
});

describe('S3Quarantine', () => {
  it('stores one object per invalid event under <sourceId>/<yyyy>/<mm>/<dd>/, idempotently', async () => {
    const quarantine = new S3Quarantine({ client: aws.clients.s3, bucketName: aws.names.quarantineBucketName });
    const receivedAt = Date.parse('2026-03-04T05:06:07.000Z');
    const items = [
      { sourceId: 'acme', event: { uuid: 'u1', published: 'redacted' }, errors: ['published: not a timestamp'], receivedAt },
      { sourceId: 'acme', event: 'not json at all', errors: ['not a JSON object'], receivedAt },
    ];
    const quarantined = items.map(({ event, ...item }) => ({ ...item, eventJson: JSON.stringify(event) }));

    await quarantine.put(quarantined);
    await quarantine.put(quarantined.slice(0, 1));

    const { Contents = [] } = await aws.clients.s3.send(new ListObjectsV2Command({ Bucket: aws.names.quarantineBucketName }));
    expect(Contents.map((object) => object.Key)).toHaveLength(2);
    for (const object of Contents) expect(object.Key).toMatch(/^acme\/2026\/03\/04\/[0-9a-f]{32}\.json$/);
    const bodies = await Promise.all(
      Contents.map(
        async (object) =>
          JSON.parse(
            await (
              await aws.clients.s3.send(new GetObjectCommand({ Bucket: aws.names.quarantineBucketName, Key: object.Key }))
            ).Body!.transformToString(),
          ) as unknown,
      ),
    );
    expect(bodies).toEqual(expect.arrayContaining(items.map((item) => ({ ...item, receivedAt: '2026-03-04T05:06:07.000Z' }))));
  });

  it('fails with QuarantineWriteError when an object cannot be stored', async () => {
    const quarantine = new S3Quarantine({ client: aws.clients.s3, bucketName: 'no-such-bucket' });

    await expect(quarantine.put([{ sourceId: 'acme', eventJson: '{}', errors: ['x'], receivedAt: 0 }])).rejects.toThrow(
      QuarantineWriteError,
    );
  });
});

describe('the AWS calls these adapters sent', () => {
  it('are each listed in API_CALLS, which the authorization test proves against the template', () => {
    expect(unlistedCommands(recorder.sent)).toEqual([]);
    // The tests above exercised every call the puller's table lists.
    expect(new Set(recorder.sent.map((command) => command.action))).toEqual(listedSdkActions('puller'));
  });
});
