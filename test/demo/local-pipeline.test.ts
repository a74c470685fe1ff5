/**
 * The local runtime end to end: emulated orgs → the real puller (in its container) → kinesalite →
 * read back → the real detections (in theirs) → alerts on the SNS stand-in. Events are added by
 * the test (no live traffic), so every figure is exact.
 */
import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalPipeline, type LocalPipeline } from '../../local/runtime';

let pipeline: LocalPipeline;
let workDir: string;
const envBefore = { ...process.env };

beforeAll(async () => {
  workDir = mkdtempSync(join(tmpdir(), 'local-pipeline-test-'));
  pipeline = await startLocalPipeline({
    workDir,
    sources: [
      { sourceId: 'attacked', eventsPerMinute: 0, seed: 11 },
      { sourceId: 'calm', eventsPerMinute: 0, seed: 12, dropOffMinutes: 5 },
    ],
  });
});

afterAll(async () => {
  await pipeline?.stop();
  rmSync(workDir, { recursive: true, force: true });
});

function org(sourceId: string) {
  const found = pipeline.orgs.find((candidate) => candidate.sourceId === sourceId);
  if (found === undefined) throw new Error(`no org ${sourceId}`);
  return found.org;
}

test('records read back from the stream are exactly the events served, and the detections fire on the attacks among them', async () => {
  // Prepare
  const attacks = org('attacked').generate(15, { mix: { 'brute-force': 1 } });
  const everyday = org('calm').generate(40);
  const invalid = { uuid: 'not-a-valid-event-0001', published: new Date().toISOString(), eventType: 'user.session.start' };
  org('calm').addEvents([invalid]);

  // Act
  const run = await pipeline.runPuller();
  const { records, detections } = await pipeline.pump();

  // Assess: every valid served event is in the stream once, under its own source.
  const served = new Map([
    ...attacks.map((event) => [event.uuid, 'attacked'] as const),
    ...everyday.map((event) => [event.uuid, 'calm'] as const),
  ]);
  expect(records).toHaveLength(served.size);
  for (const record of records) {
    const data = JSON.parse(record.data.toString('utf8')) as { uuid: string; p_source_id: string; p_log_type: string };
    expect(record.partitionKey).toBe(data.uuid);
    expect(served.get(data.uuid)).toBe(data.p_source_id);
    expect(data.p_log_type).toBe('Okta.SystemLog');
  }
  expect(new Set(records.map((record) => record.partitionKey)).size).toBe(served.size);

  // The invalid event is in the quarantine bucket, not the stream.
  expect(pipeline.quarantined().map((item) => ({ sourceId: item.sourceId, event: item.event }))).toEqual([
    { sourceId: 'calm', event: invalid },
  ]);

  // What the puller's metrics said, per source, matches what was read back.
  const bySource = Object.fromEntries(run.sources.map((source) => [source.sourceId, source]));
  expect(bySource.attacked).toMatchObject({ outcome: 'caught-up', EventsDelivered: attacks.length, DropOffBreached: 0 });
  expect(bySource.calm).toMatchObject({ outcome: 'caught-up', EventsDelivered: everyday.length, EventsInvalid: 1 });

  // Bursts of failed logins of one user raise brute-force alerts, for the attacked org only.
  const bruteForce = detections.alerts.filter((alert) => alert.ruleId === 'Okta.BruteForceLogins' && alert.status === 'new');
  expect(bruteForce.length).toBeGreaterThan(0);
  expect(new Set(bruteForce.map((alert) => alert.sourceId))).toEqual(new Set(['attacked']));
  expect(detections.abandoned).toBe(0);
});

test('the reader continues where it stopped: a second read returns only newer records', async () => {
  // Prepare
  const later = org('calm').generate(5);

  // Act
  await pipeline.runPuller();
  const records = await pipeline.readStream();
  const again = await pipeline.readStream();

  // Assess
  expect(records.map((record) => record.partitionKey).sort()).toEqual(later.map((event) => event.uuid).sort());
  expect(again).toEqual([]);
});

test('health is computed from the cursor table with the puller metric function', async () => {
  // Act: ten minutes after the last event, the calm org (5-minute drop-off) is in breach, the other (60) is not.
  const health = await pipeline.health(Date.now() + 10 * 60_000);

  // Assess
  const bySource = Object.fromEntries(health.map((item) => [item.sourceId, item.metrics]));
  expect(bySource.calm?.DropOffBreached).toBe(1);
  expect(bySource.attacked?.DropOffBreached).toBe(0);
  expect(bySource.calm?.MinutesSinceLastEvent).toBeGreaterThanOrEqual(10);
});

test('a killed puller container is replaced by a cold one, and the next run resumes from the saved cursor', async () => {
  // Prepare
  const container = await pipeline.pullerContainer();
  await container.kill('test: simulated crash');
  const after = org('attacked').generate(7);

  // Act
  const run = await pipeline.runPuller();
  const records = await pipeline.readStream();

  // Assess
  expect((await pipeline.pullerContainer()).name).not.toBe(container.name);
  expect(run.result.delivered).toBe(after.length);
  expect(records.map((record) => record.partitionKey).sort()).toEqual(after.map((event) => event.uuid).sort());
});

test('loopback is allowed only inside the containers, and no credential reaches their logs', async () => {
  // Assess: the test process' own environment is untouched.
  expect(process.env.OKTA_LOG_PIPELINE_ALLOW_LOOPBACK).toBe(envBefore.OKTA_LOG_PIPELINE_ALLOW_LOOPBACK);
  expect(process.env.AWS_ENDPOINT_URL_KINESIS).toBe(envBefore.AWS_ENDPOINT_URL_KINESIS);
  expect(pipeline.env.OKTA_LOG_PIPELINE_ALLOW_LOOPBACK).toBeUndefined();

  // The containers logged (the log is not empty) and never a token.
  const log = readFileSync(pipeline.logFile, 'utf8');
  expect(log).toContain('puller run finished');
  expect(log).toContain('batch judged');
  for (const { org: emulated } of pipeline.orgs) expect(log).not.toContain(emulated.apiToken);

  // The secrets file is in the Secrets Manager format and names each source.
  const secrets = JSON.parse(readFileSync(pipeline.secretsFile, 'utf8')) as Array<{ Name: string; SecretString: string }>;
  expect(secrets.map((secret) => secret.Name)).toEqual(['okta-log-pipeline/sources/attacked', 'okta-log-pipeline/sources/calm']);
  expect(JSON.parse(secrets[1]?.SecretString ?? '{}')).toMatchObject({ domain: org('calm').origin, dropOffMinutes: 5, enabled: true });
});
