/**
 * The Okta client and pullSource together, over real HTTP against the emulated org, with one
 * VirtualClock shared by both: rate-limit waits and backoff take no real time, and the tests
 * assert how long they would have been.
 */
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { createOktaClient, type OktaClientLimits } from '../../lambdas/core/okta';
import { pullSource, type PullDependencies } from '../../lambdas/core/pull/pull-source';
import type { OktaCredential, OutputRecord, SourceConfig } from '../../lambdas/core/ports';
import { eventProcessorFor } from '../../lambdas/core/schema';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { InMemoryCursorStore, InMemoryQuarantine, InMemoryRecordSink, testSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';
import { startScriptedServer } from '../okta/scripted-server';

const processor = eventProcessorFor('Okta.SystemLog');
const orgs: EmulatedOrg[] = [];
afterEach(async () => {
  await Promise.all(orgs.splice(0).map((org) => org.close()));
});

async function emulatedOrg(clock: VirtualClock, rateLimitPerMinute = 1_000): Promise<EmulatedOrg> {
  const org = await startOktaOrg({ clock, rateLimitPerMinute, seed: 3 });
  orgs.push(org);
  return org;
}

/**
 * Registers an OAuth service app with a fresh EC key in `org` (`requiresDpop`: the app's "Require
 * DPoP" setting) and returns the credential of a source that uses it, with the source's own `dpop`.
 */
function ecOAuthApp(org: EmulatedOrg, clientId: string, requiresDpop: boolean, sourceDpop: boolean, curve = 'P-256'): OktaCredential {
  const ec = generateKeyPairSync('ec', { namedCurve: curve });
  org.registerOAuthClient({ clientId, publicKey: ec.publicKey, dpop: requiresDpop });
  return { kind: 'oauth', clientId, privateKeyPem: ec.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(), dpop: sourceDpop };
}

interface Harness {
  readonly deps: PullDependencies;
  readonly sink: InMemoryRecordSink;
  readonly quarantine: InMemoryQuarantine;
  readonly cursors: InMemoryCursorStore;
  readonly source: SourceConfig;
  /** One puller run: a 55 s budget unless told otherwise. */
  run(budgetMs?: number): ReturnType<typeof pullSource>;
}

function harness(
  org: EmulatedOrg,
  clock: VirtualClock,
  limits: Partial<OktaClientLimits> = {},
  credential?: OktaCredential,
  fetchImpl?: typeof fetch,
): Harness {
  const source = testSource({ domain: org.origin, backfillHours: 1, credential: credential ?? { kind: 'apiToken', token: org.apiToken } });
  const okta = createOktaClient(source, {
    clock,
    allowLoopback: true,
    limits,
    random: () => 0.5,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  const sink = new InMemoryRecordSink();
  const quarantine = new InMemoryQuarantine();
  const cursors = new InMemoryCursorStore(clock);
  const deps: PullDependencies = { okta, cursors, sink, quarantine, processor, clock };
  let runs = 0;
  return {
    deps,
    sink,
    quarantine,
    cursors,
    source,
    run: (budgetMs = 55_000) => pullSource(deps, source, { owner: `run-${++runs}`, deadline: clock.now() + budgetMs, leaseMs: 300_000 }),
  };
}

const fixture = (name: string) =>
  readFileSync(join(__dirname, '../fixtures', name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const uuidsOf = (events: ReadonlyArray<unknown>) => events.map((event) => (event as { uuid: string }).uuid);
const logRequests = (org: EmulatedOrg) => org.requests.filter((request) => request.path === '/api/v1/logs');
const tokenRequests = (org: EmulatedOrg) => org.requests.filter((request) => request.path === '/oauth2/v1/token');

describe('pull from the emulated org', () => {
  it('pulls many full pages in storage order, with no wasted request after the short one', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    const stored = org.generate(1_050);
    const pull = harness(org, clock, { pageSize: 200 });

    const summary = await pull.run();

    expect(summary).toMatchObject({ outcome: 'caught-up', pages: 6, delivered: 1_050, invalid: 0 });
    expect(pull.sink.uuids()).toEqual(uuidsOf(stored));
    const requests = logRequests(org);
    expect(requests).toHaveLength(6);
    const since = new Date(clock.now() - 3_600_000).toISOString();
    expect(requests[0]?.query).toEqual({ since, limit: '200', sortOrder: 'ASCENDING' });
    // Next links followed verbatim; like Okta's, they keep since next to the after cursor.
    expect(
      requests
        .slice(1)
        .every((request) => request.query.after !== undefined && request.query.since === since && request.query.until === undefined),
    ).toBe(true);
    const record = pull.sink.records[0] as OutputRecord;
    expect(record).toMatchObject({ p_log_type: 'Okta.SystemLog', p_source_id: 'acme', p_source_label: 'Acme Okta' });
  });

  it('resumes from the stored next link: the next run gets exactly the new events, no gap, no duplicate', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    org.generate(450);
    const pull = harness(org, clock, { pageSize: 200 });
    await pull.run();
    clock.advance(60_000);
    org.generate(330);

    const second = await pull.run();

    expect(second).toMatchObject({ outcome: 'caught-up', delivered: 330 });
    expect(pull.sink.uuids()).toEqual(uuidsOf(org.storedEvents()));
    expect(new Set(pull.sink.uuids()).size).toBe(780);
  });

  it('delivers events stored late, although published before what was already delivered', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    org.generate(100);
    const pull = harness(org, clock);
    const first = await pull.run();
    clock.advance(60_000);
    const late = org.generate(50, { lateFraction: 1, lateByMs: 30 * 60_000 });

    await pull.run();

    const latePublished = late.map((event) => Date.parse(String(event.published)));
    expect(Math.max(...latePublished)).toBeLessThan(Date.parse(first.newestPublished ?? ''));
    expect(pull.sink.uuids().slice(100)).toEqual(uuidsOf(late));
  });

  it('keeps the reserve: at Remaining = 20 % it waits for the reset (Reset - Date + 1 s) instead of spending it', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00.250Z'));
    const org = await emulatedOrg(clock, 10);
    org.generate(1_100);
    const pull = harness(org, clock, { pageSize: 100, maxRateLimitWaitMs: 120_000 });

    const summary = await pull.run(120_000);

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 1_100, rateLimitWaits: 1, rateLimitWaitMs: 62_000 });
    expect(logRequests(org).every((request) => request.status === 200)).toBe(true);
    // 8 of 10 spent (Remaining 2 = the reserve). Reset is the window's end (60.25 s) rounded up to
    // 61 s, Date is truncated to 0 s: 61 s - 0 s + 1 s.
    expect(clock.slept).toEqual([62_000]);
    expect(logRequests(org)[8]?.at).toBe(Date.parse('2026-01-01T00:01:02.250Z'));
  });

  it('leaves the rest to the next run when the reset comes after the run budget, still without a 429', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock, 10);
    org.generate(1_100);
    const pull = harness(org, clock, { pageSize: 100 });

    const first = await pull.run();
    clock.advance(61_000);
    const second = await pull.run();

    expect(first).toMatchObject({ outcome: 'deadline', delivered: 800, rateLimitWaits: 1, rateLimitWaitMs: 0 });
    expect(second).toMatchObject({ outcome: 'caught-up', delivered: 300 });
    expect(clock.slept).toEqual([]);
    expect(logRequests(org).every((request) => request.status === 200)).toBe(true);
    expect(pull.sink.uuids()).toEqual(uuidsOf(org.storedEvents()));
  });

  it('waits out a 429 until Reset measured against Date, plus one second, then continues', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock, 100);
    org.generate(150);
    const answers: Array<{ status: number; date: string | null; reset: string | null }> = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      answers.push({ status: response.status, date: response.headers.get('date'), reset: response.headers.get('x-rate-limit-reset') });
      return response;
    };
    const pull = harness(org, clock, { pageSize: 100 }, undefined, recordingFetch);
    const first = await pull.deps.okta.fetchPage({ since: new Date(clock.now() - 3_600_000).toISOString() });
    clock.advance(20_400);
    org.inject('rate-limit');

    const second = await pull.deps.okta.fetchPage({ nextUrl: first.nextUrl });

    const limited = answers.find((answer) => answer.status === 429);
    const expectedWait = Number(limited?.reset) * 1000 - Date.parse(limited?.date ?? '') + 1000;
    expect(expectedWait).toBe(41_000);
    expect(clock.slept).toEqual([expectedWait]);
    expect(logRequests(org).map((request) => request.status)).toEqual([200, 429, 200]);
    expect(second.events).toHaveLength(50);
  });

  it('retries a 500, a 503, a reset connection, a truncated body and a slow answer, then delivers everything', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    org.generate(300);
    // The request timeout is real time: 3 s leaves a loaded machine room to answer the ordinary
    // requests in time (200 ms did not on two busy cores), and the slow answer outlasts it by far
    // (the emulator stops waiting as soon as the client gives up).
    const pull = harness(org, clock, { pageSize: 100, requestTimeoutMs: 3_000 });
    org.inject('server-error');
    org.inject('unavailable');
    org.inject('connection-reset');

    const first = await pull.run();
    org.inject('truncated-body');
    org.inject({ kind: 'slow', ms: 600_000 });
    clock.advance(60_000);
    org.generate(10);
    const second = await pull.run();

    expect(first).toMatchObject({ outcome: 'caught-up', delivered: 300 });
    expect(second).toMatchObject({ outcome: 'caught-up', delivered: 10 });
    expect(pull.sink.uuids()).toEqual(uuidsOf(org.storedEvents()));
    // The emulator records the abandoned slow request when its connection closes, so order is not asserted.
    expect(
      logRequests(org)
        .map((request) => String(request.fault ?? request.status))
        .sort(),
    ).toEqual(['server-error', 'unavailable', 'connection-reset', '200', '200', '200', '200', 'truncated-body', 'slow', '200'].sort());
  });

  it('stops on a revoked token after one request, with a typed error and no trace of the token', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    org.generate(10);
    const pull = harness(org, clock);
    org.revokeToken();

    const summary = await pull.run();

    expect(summary.outcome).toBe('failed');
    expect(summary.error?.kind).toBe('auth');
    expect(summary.error?.message).toContain('answered 401 E0000011');
    expect(logRequests(org)).toHaveLength(1);
    expect(clock.slept).toEqual([]);
    const shown = inspect([summary, pull.cursors.cursorOf('acme'), pull.quarantine.items], { depth: 10 });
    expect(shown).not.toContain(org.apiToken);
  });

  it('refuses a next link to another origin: that host gets nothing, the cursor does not move there', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    const elsewhere = await startScriptedServer(() => ({ body: '[]' }));
    try {
      org.generate(250);
      const pull = harness(org, clock, { pageSize: 100 });
      org.inject({ kind: 'foreign-next-link', origin: elsewhere.origin });

      const summary = await pull.run();

      expect(summary.outcome).toBe('failed');
      expect(summary.error?.kind).toBe('foreign-origin');
      expect(elsewhere.requests).toHaveLength(0);
      expect(pull.sink.records).toHaveLength(0);
      expect(pull.cursors.cursorOf('acme')?.nextUrl).toBeUndefined();
      expect(pull.cursors.cursorOf('acme')?.lastError).toContain(elsewhere.origin);
    } finally {
      await elsewhere.close();
    }
  });

  it('delivers every real-shaped corpus event with all its fields, and quarantines non-conforming ones without stopping', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    const real = fixture('okta-events.ndjson');
    const nonconforming = fixture('okta-events-nonconforming.ndjson').map((fixtureLine) => fixtureLine.event);
    org.addEvents(real);
    org.addEvents(nonconforming as Record<string, unknown>[]);
    const pull = harness(org, clock, { pageSize: 25 });

    const summary = await pull.run();

    expect(summary.outcome).toBe('caught-up');
    expect(summary.delivered + summary.invalid).toBe(real.length + nonconforming.length);
    expect(pull.sink.uuids().slice(0, real.length)).toEqual(uuidsOf(real));
    for (const [index, event] of real.entries()) {
      expect(Object.keys(pull.sink.records[index] ?? {})).toEqual(expect.arrayContaining(Object.keys(event)));
    }
    expect(pull.quarantine.items.length).toBe(summary.invalid);
    expect(pull.quarantine.items.every((item) => item.errors.length > 0 && item.sourceId === 'acme')).toBe(true);
    expect(pull.cursors.cursorOf('acme')?.nextUrl).toContain(org.origin);
  });

  it('re-delivers the page when the run dies between the sink write and the cursor save', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    org.generate(250);
    const pull = harness(org, clock, { pageSize: 100 });
    pull.cursors.saveFailures.set(2, new Error('killed'));

    const crashed = await pull.run();
    clock.advance(60_000);
    const resumed = await pull.run();

    const all = uuidsOf(org.storedEvents());
    expect(crashed.outcome).toBe('failed');
    expect(resumed).toMatchObject({ outcome: 'caught-up', delivered: 150 });
    expect(pull.sink.uuids()).toEqual([...all.slice(0, 200), ...all.slice(100, 250)]);
    expect(new Set(pull.sink.uuids())).toEqual(new Set(all));
  });
});

describe('OAuth against the emulated org', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const privateKeyPem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();

  it('fetches the access token once and reuses it until it is about to expire', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    org.registerOAuthClient({ clientId: '0oa-puller', publicKey: rsa.publicKey });
    org.generate(500);
    const pull = harness(org, clock, { pageSize: 100 }, { kind: 'oauth', clientId: '0oa-puller', privateKeyPem, dpop: false });

    const first = await pull.run();
    for (let minute = 1; minute <= 58; minute++) {
      clock.advance(60_000);
      await pull.run();
    }
    const tokensWithinTheHour = tokenRequests(org).length;
    clock.advance(60_000);
    org.generate(5);
    await pull.run();

    expect(first).toMatchObject({ outcome: 'caught-up', delivered: 500 });
    expect(tokensWithinTheHour).toBe(1);
    expect(tokenRequests(org)).toHaveLength(2);
    expect(logRequests(org).every((request) => request.authScheme === 'Bearer' && request.status === 200)).toBe(true);
    expect(pull.sink.records).toHaveLength(505);
  });

  it('goes through the DPoP nonce flow and sends DPoP-bound requests', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    const credential = ecOAuthApp(org, '0oa-dpop', true, true);
    org.generate(250);
    const pull = harness(org, clock, { pageSize: 100 }, credential);

    const summary = await pull.run();

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 250 });
    expect(tokenRequests(org).map((request) => request.status)).toEqual([400, 200]);
    expect(logRequests(org).map((request) => `${request.authScheme} ${request.status}`)).toEqual(['DPoP 200', 'DPoP 200', 'DPoP 200']);
  });
});

describe('pull from an org that answers DPoP as real Okta does (400, empty body, reason in WWW-Authenticate)', () => {
  async function dpopPull(clock: VirtualClock) {
    const org = await emulatedOrg(clock);
    const credential = ecOAuthApp(org, '0oa-dpop', true, true, 'P-384');
    org.generate(250);
    const pull = harness(org, clock, { pageSize: 100 }, credential);
    return { org, pull };
  }

  it('retries a one-off proof rejection and completes the pull (okta/okta-sdk-golang issue 554: "The DPoP proof JWT has already been used.")', async () => {
    const clock = new VirtualClock();
    const { org, pull } = await dpopPull(clock);
    org.inject('dpop-proof-rejected');

    const summary = await pull.run();

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 250 });
    expect(logRequests(org).map((request) => `${request.authScheme} ${request.status}`)).toEqual([
      'DPoP 400',
      'DPoP 200',
      'DPoP 200',
      'DPoP 200',
    ]);
    expect(pull.cursors.cursorOf('acme')?.lastError).toBeUndefined();
  });

  it('fails a persistent rejection within three requests as an auth failure naming the DPoP error, its description and the request id, in the summary and the cursor', async () => {
    const clock = new VirtualClock();
    const { org, pull } = await dpopPull(clock);
    org.inject('dpop-proof-rejected', 10);

    const summary = await pull.run();

    expect(summary.outcome).toBe('failed');
    expect(summary.error?.kind).toBe('auth');
    expect(summary.error?.message).toMatch(
      /GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs answered 400 invalid_dpop_proof \(The DPoP proof JWT has already been used\.\) \[X-Okta-Request-Id [A-Za-z0-9]+\]: Okta refused the DPoP proof, and the fresh one sent after it; check that oauth\.dpop matches/,
    );
    expect(pull.cursors.cursorOf('acme')?.lastError).toBe(summary.error?.message);
    expect(org.requests.filter((request) => request.status !== 200 || request.path === '/api/v1/logs').length).toBeLessThanOrEqual(3);
    expect(logRequests(org)).toHaveLength(2);
    expect(pull.sink.records).toHaveLength(0);
  });

  it('says so when the app requires DPoP and the source has "dpop": false: an auth failure at the token request, never a retry loop', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    const pull = harness(org, clock, {}, ecOAuthApp(org, '0oa-dpop', true, false));

    const summary = await pull.run();

    expect(summary.error?.kind).toBe('auth');
    expect(summary.error?.message).toMatch(
      /POST http:\/\/127\.0\.0\.1:\d+\/oauth2\/v1\/token answered 400 invalid_dpop_proof: The DPoP proof JWT header is missing\. \[X-Okta-Request-Id \w+\]; Okta refused the OAuth service app: .*oauth\.dpop against the app's "Require DPoP" setting/,
    );
    expect(org.requests.map((request) => `${request.path} ${request.status}`)).toEqual(['/oauth2/v1/token 400']);
  });

  it('uses the Bearer token Okta issues when the source has "dpop": true and the app does not require DPoP', async () => {
    const clock = new VirtualClock();
    const org = await emulatedOrg(clock);
    const credential = ecOAuthApp(org, '0oa-plain', false, true);
    org.generate(5);
    const pull = harness(org, clock, {}, credential);

    const summary = await pull.run();

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 5 });
    expect(logRequests(org).map((request) => request.authScheme)).toEqual(['Bearer']);
  });

  it('honours a resource-server nonce challenge (RFC 9449 section 9) and keeps sending the nonce', async () => {
    const clock = new VirtualClock();
    const { org, pull } = await dpopPull(clock);
    org.requireResourceNonce();

    const summary = await pull.run();

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 250 });
    expect(logRequests(org).map((request) => `${request.authScheme} ${request.status}`)).toEqual([
      'DPoP 401',
      'DPoP 200',
      'DPoP 200',
      'DPoP 200',
    ]);
  });
});
