import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { systemClock } from '../../lambdas/core/clock';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { VirtualClock } from '../support/virtual-clock';
import { CURSOR_TABLE, MANY_RUNS_TEST_TIMEOUT_MS, PREFIX, startSourcesHarness, type SourcesHarness } from './cli-harness';

jest.setTimeout(MANY_RUNS_TEST_TIMEOUT_MS);
let harness: SourcesHarness;
let org: EmulatedOrg;
const TOKEN_ENV = { OKTA_API_TOKEN: '' };
const table = ['--table', CURSOR_TABLE];

beforeAll(async () => {
  harness = await startSourcesHarness();
  org = await startOktaOrg({ seed: 5 });
  org.generate(20);
  TOKEN_ENV.OKTA_API_TOKEN = org.apiToken;
});

afterAll(async () => {
  // Whatever a test did, no command may ever have printed the token.
  expect(harness.transcript.join('\n')).not.toContain(org.apiToken);
  await org.close();
  await harness.close();
});

async function secretOf(sourceId: string): Promise<Record<string, unknown>> {
  const { SecretString } = await harness.secrets.send(new GetSecretValueCommand({ SecretId: `${PREFIX}${sourceId}` }));
  return JSON.parse(SecretString ?? 'null') as Record<string, unknown>;
}

async function listJson(): Promise<{ sources: Array<Record<string, unknown>>; invalid: Array<{ sourceId: string; message: string }> }> {
  const result = await harness.run(['list', '--json']);
  expect(result).toMatchObject({ code: 0, stderr: '' });
  return JSON.parse(result.stdout) as { sources: Array<Record<string, unknown>>; invalid: Array<{ sourceId: string; message: string }> };
}

test('add, list, status, disable, enable, remove: one source through its whole life', async () => {
  // Prepare
  const logRequestsBefore = org.requests.filter((request) => request.path === '/api/v1/logs').length;

  // Act: add
  const added = await harness.run(
    ['add', 'acme', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN', '--label', 'Acme Okta', '--drop-off-minutes', '30'],
    TOKEN_ENV,
  );

  // Assess: one request to the org, with the token, for one event; then the secret in the format docs/ONBOARDING.md documents
  expect(added).toMatchObject({ code: 0, stderr: '' });
  expect(added.stdout).toContain(`added source acme ("Acme Okta", ${org.origin}, api-token) as secret ${PREFIX}acme`);
  const probes = org.requests.filter((request) => request.path === '/api/v1/logs').slice(logRequestsBefore);
  expect(probes).toHaveLength(1);
  expect(probes[0]).toMatchObject({ status: 200, authScheme: 'SSWS', query: expect.objectContaining({ limit: '1' }) });
  expect(await secretOf('acme')).toEqual({
    domain: org.origin,
    apiToken: org.apiToken,
    label: 'Acme Okta',
    dropOffMinutes: 30,
    enabled: true,
  });

  // list, as a table and as JSON
  const table1 = await harness.run(['list']);
  expect(table1.code).toBe(0);
  expect(table1.stdout.split('\n')[0]).toMatch(/^ID\s+LABEL\s+DOMAIN\s+ENABLED\s+AUTH\s+DROP-OFF$/);
  expect(table1.stdout).toMatch(
    new RegExp(`^acme\\s+Acme Okta\\s+${org.origin.replace(/\./g, '\\.')}\\s+yes\\s+api-token\\s+30 min$`, 'm'),
  );
  expect((await listJson()).sources).toContainEqual({
    id: 'acme',
    label: 'Acme Okta',
    domain: org.origin,
    enabled: true,
    auth: 'api-token',
    dropOffMinutes: 30,
    backfillHours: 24,
  });

  // status before the puller ever ran
  const fresh = await harness.run(['status', 'acme', ...table]);
  expect(fresh.code).toBe(0);
  expect(fresh.stdout).toMatch(/cursor\s+never pulled/);
  expect(fresh.stdout).toMatch(/lease\s+free/);

  // disable / enable flip "enabled" and nothing else
  const disabled = await harness.run(['disable', 'acme']);
  expect(disabled).toMatchObject({ code: 0, stderr: '' });
  expect(await secretOf('acme')).toEqual({
    domain: org.origin,
    apiToken: org.apiToken,
    label: 'Acme Okta',
    dropOffMinutes: 30,
    enabled: false,
  });
  expect((await listJson()).sources.find((source) => source.id === 'acme')).toMatchObject({ enabled: false });
  const again = await harness.run(['disable', 'acme']);
  expect(again).toMatchObject({ code: 0 });
  expect(again.stdout).toContain('already disabled');
  expect(await harness.run(['enable', 'acme'])).toMatchObject({ code: 0, stderr: '' });
  expect((await secretOf('acme')).enabled).toBe(true);

  // remove keeps the cursor by default
  const cursors = new DynamoDbCursorStore({ client: harness.dynamoDb, tableName: CURSOR_TABLE, clock: systemClock });
  await cursors.acquire('acme', 'run-before-removal', 60_000);
  await cursors.save('acme', 'run-before-removal', { nextUrl: `${org.origin}/api/v1/logs?after=x`, updatedAt: systemClock.now() });
  const removed = await harness.run(['remove', 'acme']);
  expect(removed).toMatchObject({ code: 0, stderr: '' });
  expect(removed.stdout).toContain(`removed source acme: secret ${PREFIX}acme scheduled for deletion on`);
  expect(removed.stdout).toContain('cursor kept');
  expect((await listJson()).sources.map((source) => source.id)).not.toContain('acme');
  const kept = await harness.dynamoDb.send(new GetItemCommand({ TableName: CURSOR_TABLE, Key: { sourceId: { S: 'acme' } } }));
  expect(kept.Item?.nextUrl?.S).toBe(`${org.origin}/api/v1/logs?after=x`);

  // the kept cursor shows as a source without a secret; re-adding while the secret awaits deletion is refused
  const orphan = await harness.run(['status', '--json', ...table]);
  expect((JSON.parse(orphan.stdout) as { sources: unknown[] }).sources).toContainEqual(
    expect.objectContaining({ sourceId: 'acme', state: 'no-secret' }),
  );
  const readd = await harness.run(['add', 'acme', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN'], TOKEN_ENV);
  expect(readd.code).toBe(1);
  expect(readd.stderr).toMatch(
    /^okta-log-pipeline sources add: source acme: secret okta-log-pipeline\/sources\/acme was removed on \d{4}-\d\d-\d\dT[\d:.]+Z and waits out its recovery window; restore it first \(aws secretsmanager restore-secret/,
  );

  // --delete-cursor cleans up the cursor of an already removed source
  const cleaned = await harness.run(['remove', 'acme', '--delete-cursor', ...table]);
  expect(cleaned).toMatchObject({ code: 0, stderr: '' });
  expect(cleaned.stdout).toContain(`cursor deleted from table ${CURSOR_TABLE}`);
  const gone = await harness.dynamoDb.send(new GetItemCommand({ TableName: CURSOR_TABLE, Key: { sourceId: { S: 'acme' } } }));
  expect(gone.Item).toBeUndefined();
  expect(await harness.run(['remove', 'acme', '--delete-cursor', ...table])).toMatchObject({ code: 1 });
});

test('status reads the cursor item the DynamoDbCursorStore wrote: lag, last event, drop-off, last error, lease', async () => {
  // Prepare: a source, and a cursor as a puller run leaves it while it still holds the lease
  expect(
    await harness.run(['add', 'beta', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN', '--drop-off-minutes', '60'], TOKEN_ENV),
  ).toMatchObject({
    code: 0,
  });
  const now = systemClock.now();
  const cursors = new DynamoDbCursorStore({ client: harness.dynamoDb, tableName: CURSOR_TABLE, clock: systemClock });
  expect(await cursors.acquire('beta', 'puller-run-7', 60 * 60_000)).toBeDefined();
  await cursors.save('beta', 'puller-run-7', {
    nextUrl: `${org.origin}/api/v1/logs?after=abc`,
    newestPublished: new Date(now - 3 * 60 * 60_000).toISOString(),
    lastEventAt: now - 2 * 60 * 60_000,
    lastError: 'source beta: GET http://127.0.0.1/api/v1/logs answered 503',
    updatedAt: now - 30_000,
  });

  // Act
  const detail = await harness.run(['status', 'beta', '--json', ...table]);
  const human = await harness.run(['status', 'beta'], { OKTA_LOG_PIPELINE_CURSOR_TABLE: CURSOR_TABLE });
  const all = await harness.run(['status', ...table]);

  // Assess
  expect(detail).toMatchObject({ code: 0, stderr: '' });
  const status = JSON.parse(detail.stdout) as Record<string, unknown>;
  expect(status).toMatchObject({
    sourceId: 'beta',
    state: 'enabled',
    pulled: true,
    newestPublished: new Date(now - 3 * 60 * 60_000).toISOString(),
    lastEventAt: new Date(now - 2 * 60 * 60_000).toISOString(),
    dropOffMinutes: 60,
    dropOffBreached: true,
    lastError: 'source beta: GET http://127.0.0.1/api/v1/logs answered 503',
    lease: { owner: 'puller-run-7', expiresAt: expect.any(String) },
  });
  expect(status.lagSeconds).toBeGreaterThanOrEqual(3 * 60 * 60);
  expect(status.minutesSinceLastEvent).toBeGreaterThanOrEqual(120);
  expect(status.cursorAgeSeconds).toBeGreaterThanOrEqual(30);
  expect(human.code).toBe(0);
  expect(human.stdout).toMatch(/drop-off\s+BREACHED \(silent 2h 0m of 60 min\)/);
  expect(human.stdout).toMatch(/lease\s+held by puller-run-7 until /);
  expect(human.stdout).toMatch(/last error\s+source beta: GET .* answered 503/);
  expect(all.code).toBe(0);
  expect(all.stdout).toMatch(/^beta\s+enabled\s+\S+( \S+)?\s+3h 0m\s+\S+\s+BREACHED .*puller-run-7\s+source beta: GET/m);
});

test('status never prints terminal escapes an org put in the last error (a cursor an older puller wrote)', async () => {
  // Prepare
  expect(await harness.run(['add', 'delta', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN'], TOKEN_ENV)).toMatchObject({
    code: 0,
  });
  const cursors = new DynamoDbCursorStore({ client: harness.dynamoDb, tableName: CURSOR_TABLE, clock: systemClock });
  expect(await cursors.acquire('delta', 'puller-run-8', 60_000)).toBeDefined();
  await cursors.save('delta', 'puller-run-8', {
    lastError: 'source delta: answered 400 (\u001b]0;owned\u0007\u001b[2Jcleared)',
    updatedAt: systemClock.now(),
  });

  // Act
  const human = await harness.run(['status', 'delta', ...table]);
  const all = await harness.run(['status', ...table]);

  // Assess
  expect(human.stdout).toMatch(/last error\s+source delta: answered 400 \(\]0;owned\[2Jcleared\)/);
  // eslint-disable-next-line no-control-regex -- BEL, ESC and CSI are exactly what must not reach a terminal
  expect(human.stdout + all.stdout).not.toMatch(/[\u0007\u001b]/);
});

test('an expired lease is shown as free', async () => {
  // Prepare: the lease was taken long ago by a run that never released it
  expect(await harness.run(['add', 'gamma', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN'], TOKEN_ENV)).toMatchObject({
    code: 0,
  });
  const longAgo = new DynamoDbCursorStore({
    client: harness.dynamoDb,
    tableName: CURSOR_TABLE,
    clock: new VirtualClock(Date.parse('2020-01-01T00:00:00Z')),
  });
  await longAgo.acquire('gamma', 'crashed-run', 60_000);

  // Act
  const result = await harness.run(['status', 'gamma', '--json', ...table]);

  // Assess
  expect(result.code).toBe(0);
  const status = JSON.parse(result.stdout) as Record<string, unknown>;
  expect(status.lease).toBeUndefined();
  expect(status).toMatchObject({ pulled: true, dropOffBreached: true });
});

test('add --update to another org deletes the cursor of the old one, and needs the table to do so', async () => {
  // Prepare: a source pulled from one org, then moved to another
  const otherOrg = await startOktaOrg({ seed: 6 });
  try {
    expect(await harness.run(['add', 'mover', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN'], TOKEN_ENV)).toMatchObject({
      code: 0,
    });
    const cursors = new DynamoDbCursorStore({ client: harness.dynamoDb, tableName: CURSOR_TABLE, clock: systemClock });
    await cursors.acquire('mover', 'run-1', 60_000);
    await cursors.save('mover', 'run-1', { nextUrl: `${org.origin}/api/v1/logs?after=old`, updatedAt: systemClock.now() });
    const moveArgs = ['add', 'mover', '--domain', otherOrg.origin, '--token-env', 'OKTA_API_TOKEN', '--update'];
    const otherToken = { OKTA_API_TOKEN: otherOrg.apiToken };

    // Act
    const withoutTable = await harness.run(moveArgs, otherToken);
    const withTable = await harness.run([...moveArgs, ...table], otherToken);

    // Assess
    expect(withoutTable.code).toBe(2);
    expect(withoutTable.stderr).toContain(
      `--domain moves the source from ${org.origin} to ${otherOrg.origin}, so its cursor must be reset; pass --table NAME`,
    );
    expect(withTable).toMatchObject({ code: 0, stderr: '' });
    expect(withTable.stdout).toContain(`the domain changed, so the cursor of the previous org was deleted from table ${CURSOR_TABLE}`);
    expect((await secretOf('mover')).domain).toBe(otherOrg.origin);
    const item = await harness.dynamoDb.send(new GetItemCommand({ TableName: CURSOR_TABLE, Key: { sourceId: { S: 'mover' } } }));
    expect(item.Item).toBeUndefined();
    expect(harness.transcript.join('\n')).not.toContain(otherOrg.apiToken);
  } finally {
    await otherOrg.close();
  }
});
