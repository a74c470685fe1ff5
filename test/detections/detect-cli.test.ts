/** `okta-log-pipeline detect` end to end: the package's bin, spawned as a user runs it. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import { failedLogin, MINUTE, readCases, T0 } from './support';

const BIN = join(__dirname, '..', '..', 'bin', 'okta-log-pipeline.js');

function detect(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, 'detect', ...args], { input, encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

const adminGrant = readCases('Okta.AdminRoleAssigned.ndjson')[1].event;
const lines = [
  ...[0, 1, 2, 3, 4, 5].map((minute) => JSON.stringify(failedLogin(T0 + minute * MINUTE))),
  'this is not json',
  '',
  JSON.stringify(adminGrant),
];
const dir = mkdtempSync(join(tmpdir(), 'detect-cli-'));
const file = join(dir, 'records.ndjson');
writeFileSync(file, `${lines.join('\n')}\n`);

describe('okta-log-pipeline detect', () => {
  it('prints each alert as one JSON line, reports the bad line on stderr and exits 0', () => {
    const { status, stdout, stderr } = detect([file]);
    expect(status).toBe(0);
    const alerts = stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as AlertMessage);
    expect(alerts.map((alert) => [alert.status, alert.ruleId, alert.severity, alert.eventCount])).toEqual([
      ['new', 'Okta.BruteForceLogins', 'MEDIUM', 5],
      ['new', 'Okta.AdminRoleAssigned', 'HIGH', 1],
      ['updated', 'Okta.BruteForceLogins', 'MEDIUM', 6],
    ]);
    expect(stderr).toContain('okta-log-pipeline detect: line 7: not JSON');
    expect(stderr).toContain('8 records, 2 alerts raised, 1 alert updates, 1 lines skipped');
  });

  it('gives the same output when the same records are replayed, from stdin too', () => {
    const fromFile = detect([file]);
    const fromStdin = detect(['-'], `${lines.join('\n')}\n`);
    expect(fromStdin.status).toBe(0);
    expect(fromStdin.stdout).toBe(fromFile.stdout);
    expect(fromFile.stdout).not.toBe('');
  });

  it('escapes C1 controls and bidi overrides from event data in the alert lines, which still parse to the same values', () => {
    // U+009B is the 8-bit CSI (it recolours a terminal), U+202E a right-to-left override.
    const user = '\u009b31mjack\u202e@acme.io';
    const failures = [0, 1, 2, 3, 4].map((minute) => JSON.stringify(failedLogin(T0 + minute * MINUTE, user)));

    const { status, stdout } = detect(['-'], `${failures.join('\n')}\n`);

    expect(status).toBe(0);
    expect(stdout).not.toMatch(/[\u007f-\u009f\p{Cf}]/u);
    expect(stdout).toContain('\\u009b31mjack\\u202e@acme.io');
    expect((JSON.parse(stdout.trim()) as AlertMessage).dedupKey).toBe(user);
  });

  it('exits 2 with one clear line for an unreadable file', () => {
    const { status, stdout, stderr } = detect([join(dir, 'missing.ndjson')]);
    expect(status).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.trim().split('\n')).toEqual([expect.stringMatching(/^okta-log-pipeline detect: cannot read .*missing\.ndjson: ENOENT/)]);
  });
});
