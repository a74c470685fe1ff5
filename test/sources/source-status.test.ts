import { parseArgs, integerFlag } from '../../bin/cli/sources/args';
import { SourcesUsageError } from '../../bin/cli/sources/errors';
import { describeDropOff, formatDuration, sourceStatus } from '../../bin/cli/sources/source-status';
import { summarize } from '../../bin/cli/sources/describe-source';
import { testSource } from '../support/fakes';

const NOW = Date.parse('2026-03-01T12:00:00.000Z');
const minutes = (n: number) => n * 60_000;

describe('sourceStatus', () => {
  test('an enabled source: lag, silence and the drop-off verdict as the puller computes them', () => {
    // Act
    const status = sourceStatus(
      'acme',
      { kind: 'registered', config: testSource({ id: 'acme', dropOffMinutes: 30 }) },
      {
        sourceId: 'acme',
        newestPublished: new Date(NOW - minutes(45)).toISOString(),
        lastEventAt: NOW - minutes(31),
        updatedAt: NOW - 20_000,
        firstSeenAt: NOW - minutes(600),
        leaseOwner: 'run-9',
        leaseExpiresAt: NOW + 1,
        lastError: 'source acme: GET https://acme.okta.com/api/v1/logs answered 500',
      },
      NOW,
    );

    // Assess
    expect(status).toEqual({
      sourceId: 'acme',
      state: 'enabled',
      label: 'Acme Okta',
      dropOffMinutes: 30,
      pulled: true,
      cursorUpdatedAt: new Date(NOW - 20_000).toISOString(),
      cursorAgeSeconds: 20,
      newestPublished: new Date(NOW - minutes(45)).toISOString(),
      lagSeconds: 45 * 60,
      lastEventAt: new Date(NOW - minutes(31)).toISOString(),
      minutesSinceLastEvent: 31,
      dropOffBreached: true,
      lastError: 'source acme: GET https://acme.okta.com/api/v1/logs answered 500',
      lease: { owner: 'run-9', expiresAt: new Date(NOW + 1).toISOString() },
    });
    expect(describeDropOff(status)).toBe('BREACHED (silent 31m 0s of 30 min)');
  });

  test('silence just under the interval is not a breach; an expired lease is not shown', () => {
    const status = sourceStatus(
      'acme',
      { kind: 'registered', config: testSource({ dropOffMinutes: 30 }) },
      { sourceId: 'acme', lastEventAt: NOW - minutes(30) + 1000, updatedAt: NOW, leaseOwner: 'old-run', leaseExpiresAt: NOW },
      NOW,
    );
    expect(status.dropOffBreached).toBe(false);
    expect(status.lease).toBeUndefined();
    expect(describeDropOff(status)).toBe('ok (silent 29m 59s of 30 min)');
  });

  test('a source that never delivered is silent since the puller first saw it', () => {
    const status = sourceStatus(
      'acme',
      { kind: 'registered', config: testSource({ dropOffMinutes: 60 }) },
      { sourceId: 'acme', firstSeenAt: NOW - minutes(61) },
      NOW,
    );
    expect(status).toMatchObject({ pulled: true, dropOffBreached: true, minutesSinceLastEvent: 61 });
    expect(status.lastEventAt).toBeUndefined();
  });

  test('never pulled, disabled, invalid and removed sources get no verdict', () => {
    const never = sourceStatus('a', { kind: 'registered', config: testSource({ id: 'a' }) }, undefined, NOW);
    const disabled = sourceStatus(
      'b',
      { kind: 'registered', config: testSource({ id: 'b', enabled: false }) },
      { sourceId: 'b', lastEventAt: NOW - minutes(999), updatedAt: NOW },
      NOW,
    );
    const invalid = sourceStatus('c', { kind: 'invalid', message: 'source c: invalid secret: domain is missing' }, undefined, NOW);
    const removed = sourceStatus(
      'd',
      { kind: 'no-secret' },
      { sourceId: 'd', nextUrl: 'https://d.okta.com/api/v1/logs?after=1', updatedAt: NOW - 5000 },
      NOW,
    );

    expect(never).toEqual({ sourceId: 'a', state: 'enabled', label: 'Acme Okta', dropOffMinutes: 60, pulled: false });
    expect(describeDropOff(never)).toBe('not pulled yet');
    expect(disabled).toMatchObject({ state: 'disabled', pulled: true });
    expect(disabled.dropOffBreached).toBeUndefined();
    expect(describeDropOff(disabled)).toBe('-');
    expect(invalid).toEqual({ sourceId: 'c', state: 'invalid', problem: 'source c: invalid secret: domain is missing', pulled: false });
    expect(removed).toMatchObject({ state: 'no-secret', cursorAgeSeconds: 5 });
    expect(removed.dropOffBreached).toBeUndefined();
  });

  test('never includes the credential', () => {
    const token = 'token-that-must-not-leak-1234567890';
    const status = sourceStatus(
      'acme',
      { kind: 'registered', config: testSource({ credential: { kind: 'apiToken', token } }) },
      undefined,
      NOW,
    );
    expect(JSON.stringify(status)).not.toContain(token);
    expect(JSON.stringify(summarize(testSource({ credential: { kind: 'apiToken', token } })))).not.toContain(token);
  });
});

test('formatDuration', () => {
  expect([0, 59.4, 60, 3599, 3600, 86_399, 86_400 + 7200].map(formatDuration)).toEqual([
    '0s',
    '59s',
    '1m 0s',
    '59m 59s',
    '1h 0m',
    '23h 59m',
    '1d 2h',
  ]);
});

describe('parseArgs', () => {
  const spec = { values: ['--domain', '--drop-off-minutes'], switches: ['--json'] };

  test('values in both forms, switches, positionals', () => {
    const args = parseArgs(['acme', '--domain', 'https://a.okta.com', '--json', '--drop-off-minutes=15'], spec);
    expect(args.positionals).toEqual(['acme']);
    expect(args.value('--domain')).toBe('https://a.okta.com');
    expect(args.has('--json')).toBe(true);
    expect(integerFlag(args, '--drop-off-minutes')).toBe(15);
  });

  test.each([
    [['--domian', 'x'], 'unknown option "--domian"'],
    [['--domain'], '--domain needs a value'],
    [['--domain', 'a', '--domain', 'b'], '--domain is given twice'],
    [['--json=yes'], '--json takes no value'],
    [['-v'], 'unknown option "-v"'],
    [['-vx'], 'unknown option "-vx"'],
    [['--'], 'unknown option "--"'],
    [['--domain='], '--domain needs a value'],
  ])('refuses %j', (argv, message) => {
    expect(() => parseArgs(argv, spec)).toThrow(new SourcesUsageError(message));
  });

  test.each(['1.5', 'ten', '1e3', '0x10'])('a whole number flag refuses %j', (text) => {
    expect(() => integerFlag(parseArgs(['--drop-off-minutes', text], spec), '--drop-off-minutes')).toThrow(
      new SourcesUsageError(`--drop-off-minutes must be a whole number, got ${JSON.stringify(text)}`),
    );
  });

  test('a value flag takes the next argument as typed, even one that looks like a flag; `-` is a positional', () => {
    const args = parseArgs(['--domain', '--json', '-', '--drop-off-minutes', '-5'], spec);
    expect(args.value('--domain')).toBe('--json');
    expect(args.has('--json')).toBe(false);
    expect(args.positionals).toEqual(['-']);
    expect(integerFlag(args, '--drop-off-minutes')).toBe(-5);
  });

  test('an absent number flag leaves the default to the secret parser', () => {
    expect(integerFlag(parseArgs([], spec), '--drop-off-minutes')).toBeUndefined();
  });
});
