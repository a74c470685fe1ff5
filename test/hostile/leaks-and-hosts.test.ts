/**
 * Hostile orgs, part 2: what an org says never leaks a credential or reaches a terminal raw, a
 * secret cannot aim a credential at an internal host, and an alert about a huge event still fits
 * SNS. Loopback fake orgs answer with what a hostile org or proxy could.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { resolve } from 'node:path';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { childOutput } from '../support/child-output';
import { ALERT_FIELD_MAX_BYTES, ALERT_MESSAGE_MAX_BYTES, alertMessageText } from '../../lambdas/core/detections/alert';
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import { createOktaClient, ForeignOriginError, OktaAuthError, OktaConfigError } from '../../lambdas/core/okta';
import { CREDENTIAL_PIECE_LENGTH, safeOrgText } from '../../lambdas/core/okta/org-text';
import { pullSource } from '../../lambdas/core/pull/pull-source';
import { parseSourceSecret } from '../../lambdas/core/sources/parse-source-secret';
import { InMemoryCursorStore, InMemoryQuarantine, InMemoryRecordSink, fakeProcessor, testSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';
import { failedLogin, memoryEngine, MINUTE, T0 } from '../detections/support';
import { startScriptedServer, type ScriptedServer } from '../okta/scripted-server';

const TOKEN = '00aHostileEchoTokenXyz0123456789abcdefGHIJ';
const BIN = resolve(__dirname, '../../bin/okta-log-pipeline.js');
/** OSC 0 retitles a terminal (ESC ] ... BEL), CSI 2J clears it, and the 8-bit CSI. */
const ESCAPES = '\u001b]0;owned\u0007\u001b[2J\u009b31m';

/** Every 12-character piece of the token: none may appear anywhere. */
function pieces(secret: string): string[] {
  return Array.from({ length: secret.length - CREDENTIAL_PIECE_LENGTH + 1 }, (_, at) => secret.slice(at, at + CREDENTIAL_PIECE_LENGTH));
}

/** In any letter case: a host comes back from a URL parser lowercased, and is still the token. */
function expectNoPieceOf(secret: string, text: string): void {
  const folded = text.toLowerCase();
  for (const piece of pieces(secret.toLowerCase())) expect(folded).not.toContain(piece);
}

/** Format characters that render as nothing: soft hyphen, Arabic letter mark, Mongolian vowel separator, ZWJ, word joiner, BOM, a tag character, a bidi override. */
const INVISIBLE = ['\u00ad', '\u061c', '\u180e', '\u200d', '\u2060', '\ufeff', '\u{e0020}', '\u{e0041}', '\u202e'];

/** Every character percent-encoded, as a link or a form field could carry it. */
function percentEncodeAll(text: string): string {
  return [...text].map((character) => `%${character.charCodeAt(0).toString(16).padStart(2, '0')}`).join('');
}

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

describe('safeOrgText: redaction that cannot be cut around', () => {
  it('never lets a 12-character piece of a credential, or a control character, through, whatever the text and the cut', () => {
    fc.assert(
      fc.property(
        fc.string({ maxLength: 400 }),
        fc.string({ maxLength: 400 }),
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 1, max: 500 }),
        (before, after, cutInside, maxLength) => {
          // The token whole, and a token split by control characters and across the cut.
          const split = `${TOKEN.slice(0, cutInside)}\u0000\u001b${TOKEN.slice(cutInside)}`;
          const shown = safeOrgText(`${before}${split}${after}${TOKEN.slice(5, 30)}`, [TOKEN], maxLength);
          expectNoPieceOf(TOKEN, shown);
          expect(shown).not.toMatch(/\p{Cc}/u);
          expect(shown.length).toBeLessThanOrEqual(maxLength + 3);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('redacts the token split by invisible format characters, in any letter case, or percent-encoded, wherever the cut falls', () => {
    const disguise = fc.oneof(
      // Invisible characters (\p{Cf}, separators) between the token's characters.
      fc
        .array(fc.constantFrom(...INVISIBLE, '\u2028', '\u2029', '\u0085'), { minLength: 1, maxLength: TOKEN.length })
        .map((separators) => [...TOKEN].map((character, index) => `${character}${separators[index % separators.length] ?? ''}`).join('')),
      // Any letter upper- or lower-cased.
      fc
        .array(fc.boolean(), { minLength: TOKEN.length, maxLength: TOKEN.length })
        .map((upper) =>
          [...TOKEN].map((character, index) => (upper[index] === true ? character.toUpperCase() : character.toLowerCase())).join(''),
        ),
      // encodeURIComponent of every character, once or twice, with escapes in either case.
      fc.constantFrom(percentEncodeAll(TOKEN), percentEncodeAll(TOKEN).toUpperCase(), percentEncodeAll(percentEncodeAll(TOKEN))),
      // Percent-encoded with an invisible character inside each escape.
      fc.constant(percentEncodeAll(TOKEN).replace(/%(.)(.)/g, '%$1\u00ad$2')),
    );
    fc.assert(
      fc.property(
        fc.string({ maxLength: 400 }),
        fc.string({ maxLength: 40 }),
        disguise,
        fc.integer({ min: 1, max: 500 }),
        (before, after, hidden, maxLength) => {
          const shown = safeOrgText(`${before}${hidden}${after}`, [TOKEN], maxLength);
          // What a reader (or a terminal) makes of it: invisible characters gone, escapes decoded.
          const read = decodeAll(shown.replace(/[\p{Cf}\p{Zl}\p{Zp}]/gu, ''));
          expectNoPieceOf(TOKEN, read);
          expect(shown).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
          expect(shown.length).toBeLessThanOrEqual(maxLength + 3);
        },
      ),
      { numRuns: 300 },
    );
  });
});

/** `%xx` escapes decoded until none is left (invalid ones kept). */
function decodeAll(text: string): string {
  let current = text;
  for (;;) {
    const decoded = current.replace(/(?:%[0-9a-f]{2})+/gi, (escapes) => Buffer.from(escapes.replace(/%/g, ''), 'hex').toString('latin1'));
    if (decoded === current) return current;
    current = decoded;
  }
}

describe('hostile org: credential echo', () => {
  it('keeps every piece of the token out of a 401 error, its code, cause, stack and the cursor, even echoed across the 300-character cut', async () => {
    const clock = new VirtualClock();
    const server = await startScriptedServer(() => ({
      status: 401,
      body: JSON.stringify({
        errorCode: TOKEN.slice(0, 40),
        errorSummary: `${'a'.repeat(290)}${TOKEN}${ESCAPES}`,
        errorCauses: [{ errorSummary: `cause ${TOKEN.slice(3, 20)}` }],
      }),
    }));
    servers.push(server);
    const source = testSource({ domain: server.origin, credential: { kind: 'apiToken', token: TOKEN } });
    const cursors = new InMemoryCursorStore(clock);
    const deps = {
      okta: createOktaClient(source, { clock, allowLoopback: true }),
      cursors,
      sink: new InMemoryRecordSink(),
      quarantine: new InMemoryQuarantine(),
      processor: fakeProcessor,
      clock,
    };

    const error = await deps.okta.fetchPage({ since: '2026-01-01T00:00:00.000Z' }).catch((caught: unknown) => caught);
    const summary = await pullSource(deps, source, { owner: 'run-1', deadline: clock.now() + 55_000, leaseMs: 90_000 });

    expect(error).toBeInstanceOf(OktaAuthError);
    const shown = [
      String(error),
      (error as Error).stack ?? '',
      inspect(error, { depth: 10 }),
      JSON.stringify(error),
      JSON.stringify(summary),
      cursors.cursorOf('acme')?.lastError ?? '',
    ].join('\n');
    expectNoPieceOf(TOKEN, shown);
    // eslint-disable-next-line no-control-regex -- BEL, ESC and CSI are exactly what must not reach a terminal
    expect(shown).not.toMatch(/[\u0007\u001b\u009b]/);
    expect((error as OktaAuthError).errorCode).toBe('[redacted]');
  });

  it('bounds and redacts an OAuth error that echoes the signed client assertion, 200 KB long', async () => {
    const clock = new VirtualClock();
    const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
    const server = await startScriptedServer((request) => {
      const assertion = new URLSearchParams(request.body).get('client_assertion') ?? '';
      return { status: 400, body: JSON.stringify({ error: `${assertion}${'e'.repeat(200_000)}`, error_description: `bad ${assertion}` }) };
    });
    servers.push(server);
    const source = testSource({
      domain: server.origin,
      credential: { kind: 'oauth', clientId: '0oa-client', privateKeyPem: key, dpop: false },
    });

    const error = await createOktaClient(source, { clock, allowLoopback: true })
      .fetchPage({ since: '2026-01-01T00:00:00.000Z' })
      .catch((caught: unknown) => caught);

    const assertion = new URLSearchParams(server.requests[0]?.body ?? '').get('client_assertion') ?? '';
    expect(assertion.length).toBeGreaterThan(100);
    expect((error as Error).message.length).toBeLessThan(1_500);
    expectNoPieceOf(assertion, [String(error), (error as Error).stack ?? ''].join('\n'));
  });

  it('redacts a mixed-case token from a next link that carries it as the host of another origin, which the URL parser lowercases', async () => {
    const clock = new VirtualClock();
    const server = await startScriptedServer(() => ({
      headers: { link: `<https://${TOKEN}.example.com/api/v1/logs>; rel="next"` },
      body: '[]',
    }));
    servers.push(server);
    const source = testSource({ domain: server.origin, credential: { kind: 'apiToken', token: TOKEN } });

    const error = await createOktaClient(source, { clock, allowLoopback: true })
      .fetchPage({ since: '2026-01-01T00:00:00.000Z' })
      .catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(ForeignOriginError);
    const shown = [String(error), inspect(error, { depth: 5 }), JSON.stringify(error)].join('\n');
    expect(shown).toContain('example.com');
    expectNoPieceOf(TOKEN, shown);
  });

  it('redacts a token percent-encoded in the path of a same-origin next link from the error about that page', async () => {
    const clock = new VirtualClock();
    const server = await startScriptedServer((_request, index) =>
      index === 0
        ? { headers: { link: `<${server.origin}/api/v1/${percentEncodeAll(TOKEN)}>; rel="next"` }, body: '[{"uuid":"x"}]' }
        : { status: 404, body: '{}' },
    );
    servers.push(server);
    const source = testSource({ domain: server.origin, credential: { kind: 'apiToken', token: TOKEN } });
    const okta = createOktaClient(source, { clock, allowLoopback: true, limits: { pageSize: 1 } });

    const first = await okta.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    const error = await okta.fetchPage({ nextUrl: first.nextUrl }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(OktaConfigError);
    const shown = [String(error), inspect(error, { depth: 5 }), JSON.stringify(error)].join('\n');
    expect(shown).toContain('answered 404');
    expectNoPieceOf(TOKEN, decodeAll(shown));
  });

  it('prints no terminal escape and no piece of the token on the pull command line', async () => {
    const server = await startScriptedServer(() => ({
      status: 401,
      body: JSON.stringify({ errorCode: 'E0000011', errorSummary: `Invalid token ${ESCAPES}${TOKEN}` }),
    }));
    servers.push(server);

    const result = await runCli(['pull', '--domain', server.origin, '--token-env', 'OKTA_TOKEN'], {
      OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '1',
      OKTA_TOKEN: TOKEN,
    });

    expect(result.code).toBe(1);
    expect(result.stderr).toContain('E0000011');
    // eslint-disable-next-line no-control-regex -- BEL, ESC and CSI are exactly what must not reach a terminal
    expect(result.stderr).not.toMatch(/[\u0007\u001b\u009b]/);
    expectNoPieceOf(TOKEN, result.stderr + result.stdout);
  });

  it('answers an unknown command named like an Object.prototype key with a usage error, not a crash', async () => {
    const constructor = await runCli(['constructor']);
    const subcommand = await runCli(['sources', 'toString']);

    expect(constructor).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown command "constructor"') });
    expect(subcommand).toMatchObject({ code: 2, stderr: expect.stringContaining('unknown subcommand "toString"') });
  });
});

describe('hostile secret: the host guard has no exceptions', () => {
  const refused = [
    'https://127.0.0.2',
    'https://[::1]',
    'https://[::ffff:127.0.0.1]',
    'https://0.0.0.0',
    'https://localhost.',
    'https://169.254.169.254',
    'https://10.0.0.1:8443',
    'https://192.168.1.10',
    'https://8.8.8.8',
    'https://2130706433',
    'https://acme.okta.com.',
    'https://metadata.google.internal',
    'https://intranet',
    'https://okta.corp.local',
  ];

  it.each(refused)('refuses %s even with allowCustomDomain, in the secret and in the client', (domain) => {
    const secret = JSON.stringify({ domain, apiToken: TOKEN, allowCustomDomain: true });

    expect(() => parseSourceSecret('acme', secret)).toThrow(/domain/);
    expect(() => createOktaClient(testSource({ domain, allowCustomDomain: true }), { clock: new VirtualClock() })).toThrow(OktaConfigError);
  });

  it('counts every 127.0.0.0/8 address and [::1] as loopback, accepted only with the loopback switch', () => {
    for (const domain of ['http://127.0.0.2:8080', 'http://[::1]:8080', 'http://127.255.0.1', 'http://localhost:1']) {
      expect(parseSourceSecret('acme', JSON.stringify({ domain, apiToken: TOKEN }), { allowLoopback: true }).domain).toBe(
        new URL(domain).origin,
      );
      expect(() => parseSourceSecret('acme', JSON.stringify({ domain, apiToken: TOKEN }))).toThrow(/loopback/);
      expect(createOktaClient(testSource({ domain }), { clock: new VirtualClock(), allowLoopback: true }).origin).toBe(
        new URL(domain).origin,
      );
    }
    expect(
      parseSourceSecret('acme', JSON.stringify({ domain: 'https://logs.example.com', apiToken: TOKEN, allowCustomDomain: true })).domain,
    ).toBe('https://logs.example.com');
  });
});

describe('hostile event: alerts fit SNS', () => {
  it('trims the context of an alert about a grant with 4,000 targets under 256 KiB, keeping counts and uuids', () => {
    const targets = Array.from({ length: 4_000 }, (_, index) => ({
      id: `00g${index}`,
      type: 'Group',
      alternateId: `group-${index}-${'n'.repeat(150)}`,
      displayName: `Group ${index}`,
    }));
    const message: AlertMessage = {
      status: 'new',
      alertId: 'alert-1',
      ruleId: 'Okta.AdminRoleAssigned',
      severity: 'HIGH',
      title: 'Super administrator granted',
      dedupKey: 'admin@example.com',
      sourceId: 'acme',
      firstEventTime: '2026-01-01T00:00:00.000Z',
      lastEventTime: '2026-01-01T00:00:00.000Z',
      eventCount: 1,
      eventUuids: ['uuid-1'],
      context: { actor: 'admin@example.com', privilegeGranted: 'Super administrator', targets },
    };
    expect(JSON.stringify(message).length).toBeGreaterThan(800_000);

    const text = alertMessageText(message);
    const sent = JSON.parse(text) as AlertMessage & { context: { targets: { truncated: boolean; items: number } } };

    expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(ALERT_MESSAGE_MAX_BYTES);
    expect(sent).toMatchObject({
      alertId: 'alert-1',
      eventCount: 1,
      eventUuids: ['uuid-1'],
      context: { actor: 'admin@example.com', privilegeGranted: 'Super administrator' },
    });
    expect(sent.context.targets).toMatchObject({ truncated: true, items: 4_000 });
  });

  it('bounds the title and dedup key the engine takes from a 300 KB actor name to 1 KiB, two such actors still apart', async () => {
    const { engine } = memoryEngine();
    const long = 'a'.repeat(300_000);
    const actors = [`${long}-first@acme.io`, `${long}-second@acme.io`];
    const alerts: AlertMessage[] = [];
    for (const actor of actors)
      for (const minute of [0, 1, 2, 3, 4]) alerts.push(...(await engine.evaluate(failedLogin(T0 + minute * MINUTE, actor))).alerts);

    expect(alerts).toHaveLength(2);
    for (const alert of alerts) {
      expect(Buffer.byteLength(alert.dedupKey)).toBeLessThanOrEqual(ALERT_FIELD_MAX_BYTES);
      expect(Buffer.byteLength(alert.title)).toBeLessThanOrEqual(ALERT_FIELD_MAX_BYTES);
      expect(Buffer.byteLength(alertMessageText(alert))).toBeLessThanOrEqual(ALERT_MESSAGE_MAX_BYTES);
    }
    expect(alerts[0]?.dedupKey).not.toBe(alerts[1]?.dedupKey);
    expect(alerts[0]?.dedupKey).toMatch(/^a+\.\.\.sha256:[0-9a-f]{64}$/);
  });

  it('fits 256 KiB, still valid JSON with its counts, whichever of its fields an event made huge', () => {
    const huge = fc.oneof(
      fc.constant('x'.repeat(300_000)),
      // 10,000 controls are 60 KB of JSON escapes (and slow to write: kept shorter).
      fc.constant('\u0001'.repeat(10_000)),
      fc.constant('\u{1F600}'.repeat(80_000)),
      fc.string({ maxLength: 30 }),
    );
    const message = fc.record({
      status: fc.constantFrom('new' as const, 'updated' as const),
      alertId: huge,
      ruleId: huge,
      severity: fc.constantFrom('LOW' as const, 'MEDIUM' as const, 'HIGH' as const),
      title: huge,
      dedupKey: huge,
      sourceId: huge,
      firstEventTime: huge,
      lastEventTime: huge,
      eventCount: fc.nat(),
      eventUuids: fc.oneof(
        fc.array(huge, { maxLength: 8 }),
        fc.array(fc.constant('\u0001'.repeat(700)), { minLength: 200, maxLength: 200 }),
      ),
      context: fc.dictionary(huge, fc.oneof(huge, fc.array(huge, { maxLength: 5 })), { maxKeys: 5 }),
    });
    // SNS's bound, and the smallest bound alertMessageText promises to meet (which forces its last step).
    const bound = fc.constantFrom(ALERT_MESSAGE_MAX_BYTES, 16 * 1024);
    fc.assert(
      fc.property(message, bound, (alert: AlertMessage, maxBytes) => {
        const text = alertMessageText(alert, maxBytes);
        expect(Buffer.byteLength(text, 'utf8')).toBeLessThanOrEqual(maxBytes);
        expect(JSON.parse(text)).toMatchObject({ status: alert.status, severity: alert.severity, eventCount: alert.eventCount });
      }),
      { numRuns: 15 },
    );
  });
});

function runCli(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return childOutput(child);
}
