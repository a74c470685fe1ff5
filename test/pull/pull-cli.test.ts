/**
 * `okta-log-pipeline pull` end to end: the real command in a child process against the emulated
 * org on loopback (both on the real clock: the child cannot share a virtual one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { startScriptedServer } from '../okta/scripted-server';
import { childOutput, type Finished } from '../support/child-output';

const BIN = resolve(__dirname, '../../bin/okta-log-pipeline.js');

let org: EmulatedOrg;
let directory: string;
beforeEach(async () => {
  org = await startOktaOrg({ rateLimitPerMinute: 10_000, seed: 5 });
  directory = mkdtempSync(join(tmpdir(), 'pull-cli-'));
});
afterEach(async () => {
  await org.close();
  rmSync(directory, { recursive: true, force: true });
});

function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(process.execPath, [BIN, 'pull', ...args], {
    env: { PATH: process.env.PATH ?? '', OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '1', OKTA_TOKEN: org.apiToken, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, done: childOutput(child) };
}

const runPull = (args: string[], env: Record<string, string> = {}) => start(args, env).done;
const lines = (text: string) => text.split('\n').filter((line) => line !== '');
const uuidsIn = (file: string) => lines(readFileSync(file, 'utf8')).map((line) => (JSON.parse(line) as { uuid: string }).uuid);
const storedUuids = () => org.storedEvents().map((event) => (event as { uuid: string }).uuid);

describe('okta-log-pipeline pull', () => {
  it('pulls the last hour into --out, then resumes from --state with no gap and no duplicate', async () => {
    org.generate(1_200);
    const out = join(directory, 'out.ndjson');
    const state = join(directory, 'state.json');
    const before = Date.now();

    const first = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN', '--state', state, '--out', out]);
    const after = Date.now();
    org.generate(40);
    const second = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN', '--state', state, '--out', out]);

    expect(first).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(second).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(uuidsIn(out)).toEqual(storedUuids());
    const since = Date.parse(org.requests[0]?.query.since ?? '');
    expect(since).toBeGreaterThanOrEqual(before - 3_600_000);
    expect(since).toBeLessThanOrEqual(after - 3_600_000);
    const logRequests = org.requests.filter((request) => request.path === '/api/v1/logs');
    expect(logRequests).toHaveLength(3);
    expect(logRequests[2]?.query.after).toBeDefined();
    const saved = JSON.parse(readFileSync(state, 'utf8')) as { sources: Record<string, { nextUrl: string }> };
    expect(saved.sources['127-0-0-1']?.nextUrl.startsWith(`${org.origin}/api/v1/logs?`)).toBe(true);
  });

  it('writes --archive DIR as well as --out, or instead of stdout, in the archive layout', async () => {
    org.generate(30);
    const out = join(directory, 'out.ndjson');
    const archive = join(directory, 'archive');
    const archived = (): string[] =>
      readdirSync(join(archive, 'okta_system_log'), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.gz'))
        .flatMap((file) => {
          const records = lines(gunzipSync(readFileSync(join(archive, 'okta_system_log', file))).toString('utf8')).map(
            (line) => JSON.parse(line) as { uuid: string; p_event_time: string },
          );
          // Each record sits in the partition of its own event date.
          for (const record of records) expect(file.startsWith(`dt=${record.p_event_time.slice(0, 10)}/`)).toBe(true);
          return records.map((record) => record.uuid);
        });

    const both = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN', '--out', out, '--archive', archive]);
    expect(both).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(uuidsIn(out)).toEqual(storedUuids());
    expect(archived().sort()).toEqual([...storedUuids()].sort());

    rmSync(archive, { recursive: true });
    const only = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN', '--archive', archive]);
    expect(only).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(archived().sort()).toEqual([...storedUuids()].sort());
  });

  it('writes records to stdout by default, starting at --since, stamped with --source-id', async () => {
    org.generate(5);
    const since = new Date(Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000).toISOString();

    const result = await runPull([
      '--domain',
      org.origin,
      '--token-env',
      'OKTA_TOKEN',
      '--since',
      since.replace('.000Z', 'Z'),
      '--source-id',
      'acme',
    ]);

    expect(result.code).toBe(0);
    expect(org.requests[0]?.query.since).toBe(since);
    const records = lines(result.stdout).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record.uuid)).toEqual(storedUuids());
    expect(records.every((record) => record.p_source_id === 'acme' && record.p_log_type === 'Okta.SystemLog')).toBe(true);
  });

  it('fails with one line on stderr, and no token anywhere, when the token is revoked', async () => {
    org.generate(5);
    org.revokeToken();

    const result = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN']);

    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(
      /^okta-log-pipeline pull: source 127-0-0-1: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs answered 401 E0000011/,
    );
    expect(result.stderr).not.toContain(org.apiToken);
    expect(org.requests).toHaveLength(1);
  });

  it('fails with one line when a next link points at another origin, which gets no request', async () => {
    const elsewhere = await startScriptedServer(() => ({ body: '[]' }));
    try {
      org.generate(5);
      org.inject({ kind: 'foreign-next-link', origin: elsewhere.origin });

      const result = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN']);

      expect(result.code).toBe(1);
      expect(lines(result.stderr)).toEqual([expect.stringContaining(`the next link points at ${elsewhere.origin}`)]);
      expect(result.stdout).toBe('');
      expect(elsewhere.requests).toHaveLength(0);
    } finally {
      await elsewhere.close();
    }
  });

  it('refuses a loopback domain unless OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1, before any request', async () => {
    const result = await runPull(['--domain', org.origin, '--token-env', 'OKTA_TOKEN'], { OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '' });

    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toEqual([expect.stringContaining('OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1')]);
    expect(org.requests).toHaveLength(0);
  });

  it('--follow keeps polling until SIGTERM, then exits 0 with the state saved', async () => {
    org.generate(300);
    const out = join(directory, 'out.ndjson');
    const state = join(directory, 'state.json');
    const { child, done } = start(['--domain', org.origin, '--token-env', 'OKTA_TOKEN', '--state', state, '--out', out, '--follow']);
    while (!existsSync(state)) await new Promise((resolveWait) => setTimeout(resolveWait, 20));

    child.kill('SIGTERM');
    const result = await done;

    expect(result).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(uuidsIn(out)).toEqual(storedUuids());
    expect(
      (JSON.parse(readFileSync(state, 'utf8')) as { sources: Record<string, { nextUrl: string }> }).sources['127-0-0-1']!.nextUrl,
    ).toContain(org.origin);
  });
});
