/**
 * `okta-log-pipeline demo` as a user runs it (the package's bin, a child process, stdout not a
 * terminal): headless for a few seconds, stopped by `--for` or by Ctrl-C (SIGINT).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import demo from '../../bin/cli/demo';
import { childOutput, type Finished } from '../support/child-output';

const BIN = join(__dirname, '..', '..', 'bin', 'okta-log-pipeline.js');

const scratch = mkdtempSync(join(tmpdir(), 'demo-cli-test-'));
const out = join(scratch, 'records.ndjson');
// Both runs start at once: each spends most of its time in cold starts, which overlap well.
let timed: Promise<Finished>;
let interrupted: Promise<Finished>;
beforeAll(() => {
  timed = runDemo(['--for', '4', '--interval', '1', '--out', out]);
  // Interrupted after the second run's status.
  interrupted = runDemo(
    ['--interval', '1', '--quiet-org-stops-after', '0', '--out', join(scratch, 'interrupted.ndjson')],
    'run 2 quiet-org',
  );
});
afterAll(async () => {
  // The demos' work directories (secrets file, Lambda log), whose paths they printed.
  for (const run of await Promise.all([timed, interrupted])) {
    const secrets = secretsFileOf(run.stdout);
    if (secrets !== undefined) rmSync(dirname(secrets), { recursive: true, force: true });
  }
  rmSync(scratch, { recursive: true, force: true });
});

function secretsFileOf(stdout: string): string | undefined {
  return /sources are registered in (\S+)/.exec(stdout)?.[1];
}

/** Runs the demo; `interruptWhen` sends SIGINT once stdout contains that text. */
function runDemo(args: string[], interruptWhen?: string): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, 'demo', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let interrupted = false;
  return childOutput(child, (stdout) => {
    if (interruptWhen !== undefined && !interrupted && stdout.includes(interruptWhen)) {
      interrupted = true;
      child.kill('SIGINT');
    }
  });
}

function lastLine(text: string): Record<string, number> {
  const lines = text.trimEnd().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? '') as Record<string, number>;
}

/** The API tokens of the run's sources, from the secrets file whose path the demo printed. */
function tokensOf(stdout: string): string[] {
  const path = secretsFileOf(stdout);
  if (path === undefined) throw new Error(`the demo did not print its secrets file:\n${stdout}`);
  const secrets = JSON.parse(readFileSync(path, 'utf8')) as Array<{ SecretString: string }>;
  return secrets.map((secret) => (JSON.parse(secret.SecretString) as { apiToken: string }).apiToken);
}

test('runs headless for --for seconds, then delivers everything served: last line shows lost 0', async () => {
  // Act
  const { code, stdout, stderr } = await timed;

  // Assess
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const tally = lastLine(stdout);
  expect(Object.keys(tally)).toEqual(['eventsServed', 'eventsDelivered', 'duplicates', 'lost', 'invalid']);
  expect(tally.eventsServed).toBeGreaterThan(0);
  expect(tally.lost).toBe(0);
  expect(tally.eventsDelivered).toBeGreaterThanOrEqual(tally.eventsServed);
  // The NDJSON file holds the records read back: one per delivered event and duplicate.
  const records = readFileSync(out, 'utf8')
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as { uuid: string; p_source_id: string });
  expect(records).toHaveLength((tally.eventsDelivered ?? 0) + (tally.duplicates ?? 0));
  expect(new Set(records.map((record) => record.p_source_id))).toContain('busy-org');
  expect(stdout).toContain(`records read back from the stream go to ${out}`);
  // Per-source status lines (not a terminal: plain lines), and never a credential.
  expect(stdout).toMatch(
    /run \d+ busy-org: served \d+, delivered \d+, lag .*, cursor age .*, rate limit \d+\/120 used, \d+ left, drop-off ok/,
  );
  for (const token of tokensOf(stdout)) expect(stdout + stderr).not.toContain(token);
});

test('Ctrl-C stops it cleanly: final pull, summary, and the JSON last line', async () => {
  // Act
  const { code, stdout } = await interrupted;

  // Assess
  expect(code).toBe(0);
  expect(stdout).toContain('stopped the traffic of quiet-org');
  expect(stdout).toContain('summary');
  expect(lastLine(stdout)).toMatchObject({ lost: 0, duplicates: 0 });
});

test('a bad option is a usage error (exit 2), not a run', async () => {
  // Prepare
  const written: string[] = [];
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => written.push(String(chunk)) > 0);

  // Act
  const code = await demo(['--interval', '0']);

  // Assess
  expect(code).toBe(2);
  expect(written.join('')).toContain('--interval must be a number of seconds from 1 to 3600, got "0"');
  jest.restoreAllMocks();
});
