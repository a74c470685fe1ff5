/**
 * The acceptance of the archive, run as a user runs it: `npm start -- --for N --interval N
 * --archive DIR` (shortened), then `okta-log-pipeline query --archive DIR`: the distinct events
 * in the archive are the distinct events the demo delivered, every record read back from the
 * stream is there (duplicates included, as Firehose archives them), every saved query runs on
 * it, and so do the README's example questions.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { loadSavedQueries } from '../../schemas/queries/saved-queries';
import { readDoc, REPO_ROOT } from '../readme/markdown';
import { childOutput } from '../support/child-output';

const BIN = join(REPO_ROOT, 'bin', 'okta-log-pipeline.js');
/** A cap for a hung child, not a timing assertion. */
const CHILD_TIMEOUT_MS = 120_000;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

function demo(args: readonly string[]): Promise<Run> {
  return childOutput(spawn(process.execPath, [BIN, 'demo', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }));
}

const rows = (run: Run): Array<Record<string, unknown>> =>
  run.stdout
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);

const scratch = mkdtempSync(join(tmpdir(), 'demo-archive-test-'));
const archive = join(scratch, 'archive');
let run: Promise<Run>;
beforeAll(() => {
  run = demo(['--for', '4', '--interval', '1', '--archive', archive]);
});
afterAll(async () => {
  const secrets = /sources are registered in (\S+)/.exec((await run).stdout)?.[1];
  if (secrets !== undefined) rmSync(dirname(secrets), { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

async function tally(): Promise<{ eventsDelivered: number; duplicates: number }> {
  const finished = await run;
  expect(finished.code).toBe(0);
  const lines = finished.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as { eventsDelivered: number; duplicates: number };
}

/** The UTC days around now: the demo's events are today's, and the range covers midnight. */
function days(): { from: string; to: string } {
  const day = 24 * 60 * 60 * 1000;
  const now = Date.now();
  return { from: new Date(now - day).toISOString().slice(0, 10), to: new Date(now + 2 * day).toISOString().slice(0, 10) };
}

describe("the demo's archive", () => {
  it('prints where the archive goes', async () => {
    expect((await run).stdout).toContain(
      `and to the archive ${archive} (as Firehose writes S3): okta-log-pipeline query --archive ${archive} "SQL"`,
    );
  });

  it('holds every delivered event: count(DISTINCT uuid) is eventsDelivered, count(*) adds the duplicates', async () => {
    const { eventsDelivered, duplicates } = await tally();
    expect(eventsDelivered).toBeGreaterThan(0);
    const result = await cli(['query', '--archive', archive, 'SELECT count(DISTINCT uuid) AS n, count(*) AS copies FROM okta_system_log']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(rows(result)).toEqual([{ n: eventsDelivered, copies: eventsDelivered + duplicates }]);
  });

  it.each(loadSavedQueries().map((query) => [query.name, query] as const))('runs the saved query %s', async (name, query) => {
    await tally();
    const { from, to } = days();
    const someone = rows(
      await cli([
        'query',
        '--archive',
        archive,
        "SELECT actor.alternateId AS login, uuid FROM okta_system_log WHERE eventType = 'user.session.start' ORDER BY uuid LIMIT 1",
      ]),
    )[0]!;
    const values: Record<string, string> = { from, to, user: String(someone.login), uuids: String(someone.uuid) };
    const params = query.parameters.flatMap((parameter) => ['--param', `${parameter.name}=${values[parameter.name]}`]);
    const result = await cli(['query', '--archive', archive, '--saved', name, ...params]);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    if (name === 'user-activity' || name === 'alert-context') expect(rows(result).length).toBeGreaterThan(0);
  });

  it("answers the README's example questions", async () => {
    const { eventsDelivered } = await tally();
    const readme = readDoc('README.md');
    const block = readme.blocks.find((candidate) => candidate.text.includes('okta-log-pipeline query --archive demo-archive'));
    const commands = (block?.text ?? '').split('\n').filter((line) => line.startsWith('npx okta-log-pipeline query '));
    expect(commands).toHaveLength(3);
    const { from, to } = days();
    for (const command of commands) {
      // The README's shell: its dates become the test's range, its archive the demo's.
      const line = command.replace('$(date -u +%F)', from).replace('$(date -u -d tomorrow +%F)', to).replace('npx okta-log-pipeline ', '');
      const args = [...line.matchAll(/"([^"]*)"|(\S+)/g)]
        .map((match) => match[1] ?? match[2]!)
        .map((arg) => (arg === 'demo-archive' ? archive : arg));
      const result = await cli(args);
      expect({ command, code: result.code, stderr: result.stderr }).toEqual({ command, code: 0, stderr: '' });
      if (command.includes('count(DISTINCT uuid)')) expect(rows(result)).toEqual([{ events: eventsDelivered }]);
    }
  });
});
