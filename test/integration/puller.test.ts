import { generateKeyPairSync } from 'node:crypto';
import { CreateSecretCommand, DeleteSecretCommand, PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { EmfDocument } from '../../lambdas/core/metrics/emf';
import type { PullerLogger } from '../../lambdas/core/ports';
import { shardOfSource } from '../../lambdas/core/puller/shard';
import { createPullerHandler, type PullerHandler, type PullerResult } from '../../lambdas/puller/handler';
import { lambdaContext } from '../../local/runtime/lambda-context';
import { readStream } from '../../local/aws/kinesis';
import { startLocalAws, type LocalAws } from '../../local/aws/local-aws';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { VirtualClock } from '../support/virtual-clock';
import { DEFAULT_EVENT_LIMITS } from '../../lambdas/core/pull/examine-event';

/**
 * The real puller handler with the real AWS SDK clients against kinesalite and dynalite (behind
 * fault proxies), our Secrets Manager and S3 stand-ins on loopback, and emulated Okta orgs.
 * Time is virtual: rate-limit waits and backoff advance the clock instead of sleeping.
 */

let clock: VirtualClock;
let aws: LocalAws;
let orgs: EmulatedOrg[];
let savedEnv: NodeJS.ProcessEnv;
let invocation = 0;

beforeEach(async () => {
  clock = new VirtualClock(Date.parse('2026-02-01T12:00:00.000Z'));
  aws = await startLocalAws({ clock });
  orgs = [];
  savedEnv = { ...process.env };
  // The handler's SDK clients find the stand-ins the way they would find AWS: through the environment.
  Object.assign(process.env, aws.env, { AWS_MAX_ATTEMPTS: '2' });
});

afterEach(async () => {
  process.env = savedEnv;
  await Promise.all(orgs.map((org) => org.close()));
  await aws.close();
});

interface Container {
  handler: PullerHandler & { runtime(): { destroy(): void } | undefined };
  metrics: EmfDocument[];
  logs: Array<{ level: string; message: string; attributes: Record<string, unknown> }>;
}

const containers: Container[] = [];
afterEach(() => {
  for (const container of containers.splice(0)) container.handler.runtime()?.destroy();
});

/** One Lambda container: the handler, its metrics lines and its log lines. */
function container(env: Record<string, string> = {}, logger?: PullerLogger): Container {
  const metrics: EmfDocument[] = [];
  const logs: Container['logs'] = [];
  const capture =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) =>
      logs.push({ level, message, attributes });
  const handler = createPullerHandler({
    env: { ...aws.env, ...env },
    clock,
    allowLoopback: true,
    writeLine: (line) => metrics.push(JSON.parse(line) as EmfDocument),
    logger: logger ?? { info: capture('info'), warn: capture('warn'), error: capture('error') },
  });
  const made = { handler, metrics, logs };
  containers.push(made);
  return made;
}

function invoke(target: Container, event: unknown = {}): Promise<PullerResult> {
  invocation += 1;
  return target.handler(
    event,
    lambdaContext({
      functionName: 'okta-log-pipeline-puller',
      requestId: `invocation-${invocation}`,
      getRemainingTimeInMillis: () => 90_000,
    }),
  );
}

async function org(options: { rateLimitPerMinute?: number; seed?: number } = {}): Promise<EmulatedOrg> {
  const started = await startOktaOrg({ clock, ...options });
  orgs.push(started);
  return started;
}

async function addSource(id: string, target: EmulatedOrg, fields: Record<string, unknown> = {}): Promise<void> {
  await aws.clients.secretsManager.send(
    new CreateSecretCommand({
      Name: `${aws.names.sourceSecretPrefix}${id}`,
      SecretString: JSON.stringify({ domain: target.origin, apiToken: target.apiToken, ...fields }),
    }),
  );
}

async function streamRecords(): Promise<Array<Record<string, unknown>>> {
  return (await readStream(aws.clients.kinesis, aws.names.streamName)).map(
    (entry) => JSON.parse(entry.data.toString('utf8')) as Record<string, unknown>,
  );
}

function metricsFor(documents: EmfDocument[], sourceId: string): Array<Record<string, unknown>> {
  return documents.filter((document) => document.SourceId === sourceId);
}

function withoutStandardFields(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !key.startsWith('p_')));
}

describe('puller handler, integrated', () => {
  it('onboards a source by its secret alone and delivers exactly the events served, as records', async () => {
    const acme = await org({ seed: 1 });
    const served = acme.generate(250);
    await addSource('acme', acme, { label: 'Acme' });
    const lambda = container();

    const first = await invoke(lambda);

    expect(first).toMatchObject({ sources: 1, pulled: 1, failed: 0, delivered: 250, invalidSecrets: 0 });
    const records = await streamRecords();
    expect(records.map((record) => record.uuid).sort()).toEqual(served.map((event) => event.uuid).sort());
    const byUuid = new Map(records.map((record) => [record.uuid, record]));
    for (const event of served) {
      const record = byUuid.get(event.uuid) as Record<string, unknown>;
      expect(withoutStandardFields(record)).toEqual(JSON.parse(JSON.stringify(event)));
      expect(record).toMatchObject({ p_log_type: 'Okta.SystemLog', p_source_id: 'acme', p_source_label: 'Acme' });
    }
    expect((await readStream(aws.clients.kinesis, aws.names.streamName)).every((entry) => byUuid.has(entry.partitionKey))).toBe(true);

    const beta = await org({ seed: 2 });
    beta.generate(40);
    await addSource('beta', beta);
    clock.advance(60_000);
    const second = await invoke(lambda);

    expect(second).toMatchObject({ sources: 2, pulled: 2, delivered: 40 });
    expect(await streamRecords()).toHaveLength(290);
    expect(metricsFor(lambda.metrics, 'beta')).toEqual([
      expect.objectContaining({ EventsDelivered: 40, PullErrors: 0, DropOffBreached: 0 }),
    ]);
  });

  it('offboards a source whose secret is deleted: not pulled, no metrics', async () => {
    const acme = await org();
    acme.generate(10);
    await addSource('acme', acme);
    const lambda = container();
    await invoke(lambda);
    const requestsBefore = acme.requests.length;

    await aws.clients.secretsManager.send(
      new DeleteSecretCommand({ SecretId: `${aws.names.sourceSecretPrefix}acme`, ForceDeleteWithoutRecovery: true }),
    );
    acme.generate(10);
    clock.advance(60_000);
    lambda.metrics.length = 0;
    const result = await invoke(lambda);

    expect(result).toMatchObject({ sources: 0, pulled: 0, delivered: 0 });
    expect(acme.requests).toHaveLength(requestsBefore);
    expect(metricsFor(lambda.metrics, 'acme')).toEqual([]);
  });

  it('picks up a rotated token at its first 401, in the same run, while ListSecrets still shows the old version', async () => {
    const acme = await org();
    acme.generate(20);
    await addSource('acme', acme);
    const lambda = container();
    expect(await invoke(lambda)).toMatchObject({ delivered: 20, failed: 0 });
    // "ListSecrets might not reflect changes from the last five minutes", and the secret is cached for ten.
    const thaw = aws.secretsManager.freezeListing();
    const rotated = acme.rotateToken();
    await aws.clients.secretsManager.send(
      new PutSecretValueCommand({
        SecretId: `${aws.names.sourceSecretPrefix}acme`,
        SecretString: JSON.stringify({ domain: acme.origin, apiToken: rotated }),
      }),
    );
    acme.generate(15);
    clock.advance(60_000);
    lambda.metrics.length = 0;

    const result = await invoke(lambda);

    thaw();
    expect(result).toMatchObject({ sources: 1, failed: 0, delivered: 15 });
    expect(
      acme.requests
        .filter((request) => request.path === '/api/v1/logs')
        .map((request) => request.status)
        .slice(-2),
    ).toEqual([401, 200]);
    expect(metricsFor(lambda.metrics, 'acme')).toEqual([expect.objectContaining({ AuthFailures: 0, PullErrors: 0, EventsDelivered: 15 })]);
    expect(JSON.stringify(lambda.logs)).not.toContain(rotated);
  });

  it('offboards a source removed with a recovery window and its token revoked, with no auth failure, while ListSecrets still shows it', async () => {
    const acme = await org();
    acme.generate(10);
    await addSource('acme', acme);
    const lambda = container();
    await invoke(lambda);
    aws.secretsManager.freezeListing();
    await aws.clients.secretsManager.send(
      new DeleteSecretCommand({ SecretId: `${aws.names.sourceSecretPrefix}acme`, RecoveryWindowInDays: 7 }),
    );
    acme.revokeToken();
    clock.advance(60_000);
    lambda.metrics.length = 0;

    const result = await invoke(lambda);

    expect(result).toMatchObject({ sources: 0, failed: 0, invalidSecrets: 0 });
    expect(metricsFor(lambda.metrics, 'acme')).toEqual([]);
    expect(lambda.metrics.at(-1)).toMatchObject({ SourceConfigErrors: 0 });
  });

  it('skips a source with "enabled": false', async () => {
    const acme = await org();
    acme.generate(10);
    await addSource('acme', acme, { enabled: false });

    const result = await invoke(container());

    expect(result).toMatchObject({ sources: 0, disabled: 1, delivered: 0 });
    expect(acme.requests).toHaveLength(0);
  });

  it('never lets two overlapping invocations pull the same source: the lease', async () => {
    const acme = await org();
    const served = acme.generate(1500);
    await addSource('acme', acme);

    const results = await Promise.all([invoke(container()), invoke(container())]);

    expect(results.map((result) => result.delivered).sort((a, b) => a - b)).toEqual([0, 1500]);
    expect(results.map((result) => result.leaseHeld).sort()).toEqual([0, 1]);
    const records = await streamRecords();
    expect(records).toHaveLength(served.length);
    expect(new Set(records.map((record) => record.uuid)).size).toBe(served.length);
  });

  it('splits the sources between shard invocations: each pulls, reads the secrets of and reports only its own', async () => {
    const ids = ['acme', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    // The fixture is only meaningful when both shards get work.
    expect(new Set(ids.map((id) => shardOfSource(id, 2))).size).toBe(2);
    const served = new Map<string, string[]>();
    for (const [index, id] of ids.entries()) {
      const target = await org({ seed: index + 1 });
      served.set(
        id,
        target.generate(30 + index).map((event) => event.uuid),
      );
      await addSource(id, target);
    }
    const shards = [container(), container()];

    const results = await Promise.all(shards.map((lambda, shard) => invoke(lambda, { shard, shards: 2 })));

    for (const [shard, lambda] of shards.entries()) {
      const mine = ids.filter((id) => shardOfSource(id, 2) === shard);
      expect(results[shard]).toMatchObject({ shard, shards: 2, sources: mine.length, pulled: mine.length, failed: 0, leaseHeld: 0 });
      const reported = lambda.metrics.filter((document) => typeof document.SourceId === 'string').map((document) => document.SourceId);
      expect(reported.sort()).toEqual([...mine].sort());
      expect(lambda.metrics.at(-1)).toMatchObject({ SourcesPulled: mine.length, SourceConfigErrors: 0 });
    }
    // Each secret was read once, by its own shard: no shard pays for the others' sources.
    const reads = aws.secretsManager.calls.filter((call) => call.operation === 'GetSecretValue');
    expect(reads).toHaveLength(ids.length);
    const records = await streamRecords();
    expect(records.map((record) => record.uuid).sort()).toEqual([...served.values()].flat().sort());
  });

  it('stays exactly-once while re-sharding: a run of the old single shard overlapping the new shards', async () => {
    const ids = ['acme', 'beta', 'gamma', 'delta'];
    const served: string[] = [];
    for (const [index, id] of ids.entries()) {
      const target = await org({ seed: index + 1 });
      served.push(...target.generate(1100).map((event) => event.uuid));
      await addSource(id, target);
    }

    const results = await Promise.all([
      invoke(container(), {}),
      invoke(container(), { shard: 0, shards: 2 }),
      invoke(container(), { shard: 1, shards: 2 }),
    ]);

    // Each source is listed by two invocations (the old shard and its new one); whichever comes
    // second finds the lease held or the cursor already moved, so nothing is delivered twice.
    expect(results.reduce((sum, result) => sum + result.sources, 0)).toBe(2 * ids.length);
    expect(results.map((result) => result.failed)).toEqual([0, 0, 0]);
    const records = await streamRecords();
    expect(records.map((record) => record.uuid).sort()).toEqual([...served].sort());
  });

  it('retries only the failed Kinesis entries and delivers every event exactly once', async () => {
    const acme = await org();
    const served = acme.generate(600);
    await addSource('acme', acme);
    aws.kinesisProxy.inject({ kind: 'kinesis-partial', failEntry: (index) => index % 7 === 0 }, 2);

    const result = await invoke(container());

    expect(result).toMatchObject({ failed: 0, delivered: 600 });
    const calls = aws.kinesisProxy.calls.filter((call) => call.operation === 'PutRecords');
    expect(calls.slice(0, 2).map((call) => call.fault)).toEqual(['kinesis-partial', 'kinesis-partial']);
    // The retry of a partly failed batch (one delivery batch of the page) carries only its failed entries.
    const batch = DEFAULT_EVENT_LIMITS.deliveryBatchRecords;
    const retried = calls.find((call, index) => index > 0 && call.entries !== undefined && call.entries < batch);
    expect(retried?.entries).toBe(Math.ceil(batch / 7));
    const records = await streamRecords();
    expect(records).toHaveLength(served.length);
    expect(new Set(records.map((record) => record.uuid)).size).toBe(served.length);
  });

  it('stops at the deadline mid-backlog and resumes on the next run with no gap and no duplicate', async () => {
    // Two requests a minute with a 20 % reserve (one request): one page a window, and the reset lies past the deadline.
    const acme = await org({ rateLimitPerMinute: 2 });
    const served = acme.generate(2500);
    await addSource('acme', acme);
    const lambda = container({ RUN_BUDGET_SECONDS: '20' });

    const first = await invoke(lambda);
    expect(first.delivered).toBe(1000);
    expect(metricsFor(lambda.metrics, 'acme')[0]).toMatchObject({ Outcome: 'deadline', PullErrors: 0 });

    let delivered = first.delivered;
    for (let run = 0; run < 5 && delivered < 2500; run += 1) {
      clock.advance(60_000);
      delivered += (await invoke(lambda)).delivered;
    }

    expect(delivered).toBe(2500);
    const records = await streamRecords();
    expect(records.map((record) => record.uuid).sort()).toEqual(served.map((event) => event.uuid).sort());
  });

  it('pulls the others when one secret is malformed, and names the source and field', async () => {
    const acme = await org();
    acme.generate(20);
    await addSource('acme', acme);
    await aws.clients.secretsManager.send(
      new CreateSecretCommand({
        Name: `${aws.names.sourceSecretPrefix}broken`,
        SecretString: JSON.stringify({ domain: acme.origin, apiToken: acme.apiToken, dropOffMinutes: 'soon' }),
      }),
    );
    const lambda = container();

    const result = await invoke(lambda);

    expect(result).toMatchObject({ sources: 1, pulled: 1, delivered: 20, invalidSecrets: 1 });
    expect(lambda.logs).toContainEqual({
      level: 'error',
      message: 'source secret is invalid; the source is not pulled',
      attributes: {
        sourceId: 'broken',
        problem: 'source broken: invalid secret: dropOffMinutes must be a whole number from 1 to 129600, got a string',
      },
    });
    expect(lambda.metrics.at(-1)).toMatchObject({ SourceConfigErrors: 1, SourcesPulled: 1 });
    expect(JSON.stringify(lambda.logs)).not.toContain(acme.apiToken);
  });

  it('reports a revoked token with a metric and a JSON log line, sends one request a run, and re-reads the secret at each refusal', async () => {
    const acme = await org();
    acme.generate(20);
    await addSource('acme', acme);
    // The real handler's Powertools Logger; in dev mode it writes through the global console, which the test can watch.
    process.env.POWERTOOLS_DEV = 'true';
    process.env.POWERTOOLS_SERVICE_NAME = 'okta-log-pipeline-puller';
    // Set by Lambda in an on-demand container ("AWS_LAMBDA_INITIALIZATION_TYPE", reserved environment
    // variables, https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html); Powertools reports cold starts only then.
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
    const lines: string[] = [];
    const spies = (['info', 'warn', 'error'] as const).map((method) =>
      jest.spyOn(console, method).mockImplementation((...parts: unknown[]) => {
        lines.push(parts.map(String).join(' '));
      }),
    );
    const metrics: EmfDocument[] = [];
    const handler = createPullerHandler({
      env: aws.env,
      clock,
      allowLoopback: true,
      writeLine: (line) => metrics.push(JSON.parse(line) as EmfDocument),
    });
    const lambda: Container = { handler, metrics, logs: [] };
    containers.push(lambda);
    acme.revokeToken();
    const getSecretValues = (): number => aws.secretsManager.calls.filter((call) => call.operation === 'GetSecretValue').length;
    try {
      const first = await invoke(lambda);
      clock.advance(60_000);
      const second = await invoke(lambda);

      expect([first.failed, second.failed]).toEqual([1, 1]);
      expect(acme.requests.filter((request) => request.path === '/api/v1/logs').map((request) => request.status)).toEqual([401, 401]);
      // The first listing's read, then one fresh read per refusal: the secret still holds the revoked token.
      expect(getSecretValues()).toBe(3);
      expect(metricsFor(metrics, 'acme')).toEqual([
        expect.objectContaining({ AuthFailures: 1, PullErrors: 1, EventsDelivered: 0 }),
        expect.objectContaining({ AuthFailures: 1, PullErrors: 1, EventsDelivered: 0 }),
      ]);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
    const failures = lines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line.message === 'source pull failed');
    expect(failures).toHaveLength(2);
    expect(failures[0]).toMatchObject({
      level: 'ERROR',
      service: 'okta-log-pipeline-puller',
      sourceId: 'acme',
      errorKind: 'auth',
      outcome: 'failed',
    });
    // Every line, log or metrics, names its invocation and whether the container was cold for it.
    const [firstId, secondId] = [`invocation-${invocation - 1}`, `invocation-${invocation}`];
    expect(failures.map((line) => [line.function_request_id, line.cold_start])).toEqual([
      [firstId, true],
      [secondId, false],
    ]);
    expect(new Set(lines.map((line) => (JSON.parse(line) as Record<string, unknown>).function_request_id))).toEqual(
      new Set([firstId, secondId]),
    );
    expect(metricsFor(metrics, 'acme').map((document) => [document.function_request_id, document.cold_start])).toEqual([
      [firstId, true],
      [secondId, false],
    ]);
    expect(lines.join('\n')).not.toContain(acme.apiToken);

    acme.restoreToken();
    clock.advance(60_000);
    expect(await invoke(lambda)).toMatchObject({ failed: 0, delivered: 20 });
  });

  it('pages on a DPoP refusal as Okta sends it (400, empty body, WWW-Authenticate): AuthFailures, a log line naming the DPoP error and request id', async () => {
    const acme = await org();
    acme.generate(20);
    const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    acme.registerOAuthClient({ clientId: '0oa-dpop', publicKey: key.publicKey, dpop: true });
    const privateKeyPem = key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    await aws.clients.secretsManager.send(
      new CreateSecretCommand({
        Name: `${aws.names.sourceSecretPrefix}acme`,
        SecretString: JSON.stringify({ domain: acme.origin, oauth: { clientId: '0oa-dpop', privateKeyPem, dpop: true } }),
      }),
    );
    acme.inject('dpop-proof-rejected', 10);
    const lambda = container();

    const result = await invoke(lambda);

    expect(result).toMatchObject({ failed: 1, delivered: 0 });
    expect(acme.requests.filter((request) => request.path === '/api/v1/logs').map((request) => request.status)).toEqual([400, 400]);
    expect(metricsFor(lambda.metrics, 'acme')).toEqual([expect.objectContaining({ AuthFailures: 1, PullErrors: 1 })]);
    const failure = lambda.logs.find((line) => line.message === 'source pull failed');
    expect(failure?.attributes).toMatchObject({ sourceId: 'acme', errorKind: 'auth' });
    expect(String(failure?.attributes.error)).toMatch(
      /answered 400 invalid_dpop_proof \(The DPoP proof JWT has already been used\.\) \[X-Okta-Request-Id \w+\]: Okta refused the DPoP proof/,
    );
    expect(JSON.stringify(lambda.logs)).not.toContain('PRIVATE KEY');
  });
});
