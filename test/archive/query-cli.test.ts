/**
 * `okta-log-pipeline query` as a user runs it (the package's bin, a child process) over a local
 * archive written by LocalArchive from real normalised records: one JSON object per row, exit 1
 * with DuckDB's message, exit 2 for usage errors, saved queries with --param, late events found
 * in their own day, `json` fields as their JSON text.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { LocalArchive } from '../../lambdas/adapters/local';
import type { OutputRecord } from '../../lambdas/core/ports';
import { eventProcessorFor } from '../../lambdas/core/schema';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'okta-log-pipeline.js');
/** A cap for a hung child, not a timing assertion. */
const CHILD_TIMEOUT_MS = 60_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function query(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, 'query', ...args], { cwd: ROOT, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** `query --archive <the test archive> --saved NAME --param name=value...`. */
function savedQuery(name: string, params: Readonly<Record<string, string>>): Promise<Run> {
  return query([
    '--archive',
    archiveDir,
    '--saved',
    name,
    ...Object.entries(params).flatMap(([param, value]) => ['--param', `${param}=${value}`]),
  ]);
}

const rows = (run: Run): Array<Record<string, unknown>> =>
  run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const scratch = mkdtempSync(path.join(tmpdir(), 'query-cli-test-'));
const archiveDir = path.join(scratch, 'archive');
const processor = eventProcessorFor('Okta.SystemLog');

function record(event: Record<string, unknown>): OutputRecord {
  const result = processor.process(event, { sourceId: 'acme', sourceLabel: 'Acme', parseTime: Date.parse('2026-03-05T00:00:00Z') });
  if (!result.ok) throw new Error(result.errors.join('; '));
  return result.record;
}

function event(uuid: string, published: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    uuid,
    published,
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    actor: { id: '00u1', type: 'User', alternateId: 'Jane@Example.com', details: { mfa: ['push', 'sms'] } },
    client: { ipAddress: '198.51.100.7', geographicalContext: { country: 'France' } },
    outcome: { result: 'FAILURE', reason: 'INVALID_CREDENTIALS' },
    ...extra,
  };
}

const fixtures = readFileSync(path.join(ROOT, 'test/fixtures/okta-events.ndjson'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => processor.process(JSON.parse(line), { sourceId: 'fixtures', sourceLabel: 'Fixtures', parseTime: 0 }))
  .flatMap((result) => (result.ok ? [result.record] : []));

beforeAll(async () => {
  const archive = new LocalArchive(archiveDir, { now: () => Date.parse('2026-03-05T10:00:00Z') });
  await archive.append(fixtures);
  await archive.append([
    record(event('u-1', '2026-03-05T09:00:00.123Z')),
    record(event('u-2', '2026-03-05T09:30:00Z', { unknownField: { kept: true } })),
  ]);
  // Delivered a day later, about the 3rd: Firehose puts it in dt=2026-03-03, and so does LocalArchive.
  await archive.append([record(event('u-late', '2026-03-03T23:59:59.999Z'))]);
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('okta-log-pipeline query', () => {
  it('writes gzip NDJSON under okta_system_log/dt=<event date>/, late events in their own day', () => {
    const partitions = readdirSync(path.join(archiveDir, 'okta_system_log')).sort();
    expect(partitions).toEqual(expect.arrayContaining(['dt=2026-03-03', 'dt=2026-03-05']));
    const lateFiles = readdirSync(path.join(archiveDir, 'okta_system_log', 'dt=2026-03-03'));
    expect(lateFiles).toEqual([expect.stringMatching(/^okta-log-pipeline-local-\d+-2026-03-05-10-00-00-[0-9a-f-]{36}\.gz$/)]);
    const lines = gunzipSync(readFileSync(path.join(archiveDir, 'okta_system_log', 'dt=2026-03-03', lateFiles[0]!)))
      .toString('utf8')
      .split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0]!)).toMatchObject({ uuid: 'u-late', p_event_time: '2026-03-03T23:59:59.999Z' });
    expect(lines[1]).toBe('');
  });

  it('prints one JSON object per row and exits 0', async () => {
    const run = await query(['--archive', archiveDir, 'SELECT count(DISTINCT uuid) AS n, count(*) AS c FROM okta_system_log']);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    // The fixtures repeat some uuids (Okta's samples): distinct and total counts differ.
    expect(rows(run)).toEqual([{ n: new Set(fixtures.map((item) => item.uuid)).size + 3, c: fixtures.length + 3 }]);
  });

  it('escapes C1 controls and bidi overrides in the rows it prints, which still parse to the same values', async () => {
    // chr(155) is U+009B, the 8-bit CSI; chr(8238) U+202E, a right-to-left override: what an event's text can hold.
    const run = await query(['--archive', archiveDir, "SELECT chr(155) || '31m' || chr(8238) || 'exe.txt' AS s"]);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).not.toMatch(/[\u007f-\u009f\p{Cf}]/u);
    expect(rows(run)).toEqual([{ s: '\u009b31m\u202eexe.txt' }]);
  });

  it('reads the columns generated from the YAML: structs, json fields as JSON text, the dt partition', async () => {
    const run = await query([
      '--archive',
      archiveDir,
      "SELECT actor.alternateId AS login, actor.details AS details, dt FROM okta_system_log WHERE uuid = 'u-2'",
    ]);
    expect(rows(run)).toEqual([{ login: 'Jane@Example.com', details: '{"mfa":["push","sms"]}', dt: '2026-03-05' }]);
  });

  it("exits 1 with DuckDB's message for a query it refuses", async () => {
    const run = await query(['--archive', archiveDir, 'SELECT nope FROM okta_system_log']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^okta-log-pipeline query: Binder Error: Referenced column "nope" not found/);
  });

  it.each([
    [['SELECT 1'], '--archive DIR is required'],
    [['--archive', path.join(scratch, 'missing'), 'SELECT 1'], 'is not a directory'],
    [['--archive', archiveDir], 'give exactly one SQL statement'],
    [['--archive', archiveDir, '--saved', 'no-such-query'], 'no saved query "no-such-query"'],
    [
      ['--archive', archiveDir, '--saved', 'user-activity', '--param', 'from=2026-03-01'],
      'user-activity needs --param user=... --param to=...',
    ],
    [
      ['--archive', archiveDir, '--saved', 'failed-logins-by-ip', '--param', 'from=1', '--param', 'to=2', '--param', 'user=x'],
      'failed-logins-by-ip has no parameter "user"',
    ],
    [['--archive', archiveDir, 'SELECT 1', '--param', 'a=b'], '--param applies only to --saved queries'],
    [['--archive', archiveDir, '--bogus'], 'unknown option "--bogus"'],
  ])('exits 2 for %j', async (args, message) => {
    const run = await query(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  it('runs a saved query with --param values bound to every placeholder of their name', async () => {
    const run = await savedQuery('user-activity', { user: 'jane@example.com', from: '2026-03-05 09:00', to: '2026-03-05T09:30:00Z' });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    // [from, to): 09:00:00.123 is in, 09:30:00 is the exclusive end.
    expect(rows(run).map((row) => row.uuid)).toEqual(['u-1']);
  });

  it('finds a late event by its own event time, in the partition of its date', async () => {
    const run = await savedQuery('user-activity', { user: 'jane@example.com', from: '2026-03-03', to: '2026-03-04' });
    expect(rows(run).map((row) => row.uuid)).toEqual(['u-late']);
    const failures = rows(await savedQuery('failed-logins-by-ip', { from: '2026-03-01', to: '2026-03-06' }));
    expect(failures).toContainEqual(expect.objectContaining({ ip: '198.51.100.7', failures: 3, users: 1, countries: ['France'] }));
  });

  it("shows the events around an alert: its actors' and addresses' other events, marked", async () => {
    const run = await savedQuery('alert-context', { uuids: 'u-1', from: '2026-03-03', to: '2026-03-06' });
    expect(rows(run).map((row) => [row.uuid, row.in_alert])).toEqual([
      ['u-late', false],
      ['u-1', true],
      ['u-2', false],
    ]);
  });

  it('runs over an archive with no objects yet, with the same columns', async () => {
    const run = await query([
      '--archive',
      scratch,
      'SELECT count(*) AS n, count(dt) AS d FROM okta_system_log WHERE actor.alternateId IS NULL',
    ]);
    expect(rows(run)).toEqual([{ n: 0, d: 0 }]);
  });
});
