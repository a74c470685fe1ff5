import { inspect } from 'node:util';
import {
  ForeignOriginError,
  OktaAuthError,
  OktaBadRequestError,
  OktaConfigError,
  OktaPermissionError,
  OktaRateLimitError,
  OktaUnavailableError,
  createOktaClient,
  type OktaClientLimits,
} from '../../lambdas/core/okta';
import type { SourceConfig } from '../../lambdas/core/ports';
import { testEvent, testSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';
import { startScriptedServer, type ReceivedRequest, type Script, type ScriptedServer } from './scripted-server';

const TOKEN = '00SecretTokenThatMustNeverBeShown0123456789';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

async function serve(answer: (request: ReceivedRequest, index: number) => Script): Promise<ScriptedServer> {
  server = await startScriptedServer(answer);
  return server;
}

function clientFor(origin: string, clock: VirtualClock, limits: Partial<OktaClientLimits> = {}, source: Partial<SourceConfig> = {}) {
  return createOktaClient(testSource({ domain: origin, credential: { kind: 'apiToken', token: TOKEN }, ...source }), {
    clock,
    allowLoopback: true,
    limits,
    random: () => 0.5,
  });
}

const page = (from: number, count: number) => JSON.stringify(Array.from({ length: count }, (_, i) => testEvent(from + i)));
const httpDate = (ms: number) => new Date(ms).toUTCString();
const everythingShown = (error: unknown) =>
  [String(error), (error as Error).stack ?? '', inspect(error, { depth: 10 }), JSON.stringify(error)].join('\n');

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject');
}

describe('createOktaClient: polling', () => {
  it('asks for since, limit 1000 and ascending order without until, with the SSWS token, then follows next verbatim', async () => {
    const clock = new VirtualClock();
    const org = await serve((request) => {
      const next = `${org.origin}/api/v1/logs?limit=1000&sortOrder=ASCENDING&after=opaque%2Bcursor`;
      const links = [`<${org.origin}${request.url}>; rel="self"`, `<${next}>; rel="next"`];
      return { headers: { link: links }, body: page(0, 2) };
    });
    const client = clientFor(org.origin, clock);

    const first = await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    const second = await client.fetchPage({ nextUrl: first.nextUrl });

    const query = new URL(org.requests[0]!.url, org.origin).searchParams;
    expect(Object.fromEntries(query)).toEqual({ since: '2026-01-01T00:00:00.000Z', limit: '1000', sortOrder: 'ASCENDING' });
    expect(org.requests[0]!.headers.authorization).toBe(`SSWS ${TOKEN}`);
    expect(first.nextUrl).toBe(`${org.origin}/api/v1/logs?limit=1000&sortOrder=ASCENDING&after=opaque%2Bcursor`);
    expect(org.requests[1]!.url).toBe('/api/v1/logs?limit=1000&sortOrder=ASCENDING&after=opaque%2Bcursor');
    expect(second.events).toHaveLength(2);
  });

  it.each([
    ['two link header lines', (self: string, next: string) => [`<${self}>; rel="self"`, `<${next}>; rel="next"`]],
    ['one comma-joined line', (self: string, next: string) => `<${self}>; rel="self", <${next}>; rel="next"`],
    ['next before self, unquoted rel', (self: string, next: string) => `<${next}>; rel=next, <${self}>; rel=self`],
  ])('reads the next link from %s', async (_form, link) => {
    const clock = new VirtualClock();
    const org = await serve(() => ({
      headers: { link: link(`${org.origin}/api/v1/logs?self=1`, `${org.origin}/api/v1/logs?after=xyz&limit=2`) },
      body: page(0, 2),
    }));

    const result = await clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(result.nextUrl).toBe(`${org.origin}/api/v1/logs?after=xyz&limit=2`);
  });

  it('is caught up on a page shorter than its limit, and keeps that page next link', async () => {
    const clock = new VirtualClock();
    const org = await serve((request) => {
      const full = request.url.includes('after=full');
      return {
        headers: { link: `<${org.origin}/api/v1/logs?limit=3&after=${full ? 'short' : 'full'}>; rel="next"` },
        body: page(0, full ? 2 : 3),
      };
    });
    const client = clientFor(org.origin, clock, { pageSize: 3 });

    const first = await client.fetchPage({ nextUrl: `${org.origin}/api/v1/logs?limit=3&after=start` });
    const second = await client.fetchPage({ nextUrl: first.nextUrl });

    expect(first.caughtUp).toBe(false);
    expect(second.caughtUp).toBe(true);
    expect(second.nextUrl).toBe(`${org.origin}/api/v1/logs?limit=3&after=short`);
  });

  it('repeats the request next time when a short page lacks a next link, and refuses a full page without one', async () => {
    const clock = new VirtualClock();
    const org = await serve((request) => ({ body: page(0, request.url.includes('after=b') ? 5 : 1) }));
    const client = clientFor(org.origin, clock, { pageSize: 5 });

    const short = await client.fetchPage({ nextUrl: `${org.origin}/api/v1/logs?limit=5&after=a` });
    const error = await caught(client.fetchPage({ nextUrl: `${org.origin}/api/v1/logs?limit=5&after=b` }));

    expect(short.nextUrl).toBe(`${org.origin}/api/v1/logs?limit=5&after=a`);
    expect(error).toBeInstanceOf(OktaUnavailableError);
    expect((error as Error).message).toContain('full page without a next link');
  });
});

describe('createOktaClient: host safety', () => {
  it('refuses a next link to another origin, and a stored cursor on another origin without sending anything', async () => {
    const clock = new VirtualClock();
    const other = await startScriptedServer(() => ({ body: '[]' }));
    try {
      const org = await serve(() => ({ headers: { link: `<${other.origin}/api/v1/logs?after=x>; rel="next"` }, body: page(0, 1) }));
      const client = clientFor(org.origin, clock);

      const fromLink = await caught(client.fetchPage({ since: '2026-01-01T00:00:00.000Z' }));
      const fromCursor = await caught(client.fetchPage({ nextUrl: `${other.origin}/api/v1/logs?after=x` }));

      expect(fromLink).toBeInstanceOf(ForeignOriginError);
      expect((fromLink as ForeignOriginError).foreignOrigin).toBe(other.origin);
      expect((fromLink as Error).message).toContain(`points at ${other.origin}, not the org's ${org.origin}`);
      expect(fromCursor).toBeInstanceOf(ForeignOriginError);
      expect(org.requests).toHaveLength(1);
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it('refuses a next link with user info that would send the request elsewhere', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => ({ headers: { link: `<http://127.0.0.1@attacker.example/api/v1/logs>; rel="next"` }, body: page(0, 1) }));

    const error = await caught(clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

    expect(error).toBeInstanceOf(ForeignOriginError);
    expect((error as ForeignOriginError).foreignOrigin).toBe('http://attacker.example');
  });

  it('does not follow a redirect', async () => {
    const clock = new VirtualClock();
    const other = await startScriptedServer(() => ({ body: '[]' }));
    try {
      const org = await serve(() => ({ status: 302, headers: { location: `${other.origin}/api/v1/logs` }, body: '' }));

      const error = await caught(clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

      expect(error).toBeInstanceOf(OktaUnavailableError);
      expect((error as Error).message).toContain(`redirecting to ${other.origin}`);
      expect(other.requests).toHaveLength(0);
    } finally {
      await other.close();
    }
  });

  it.each([
    ['http on an Okta host', { domain: 'http://acme.okta.com' }, 'must use https'],
    ['a non-Okta host', { domain: 'https://logs.example.com' }, 'is not an Okta org host'],
    ['a path', { domain: 'https://acme.okta.com/api' }, 'origin only'],
    ['a look-alike host', { domain: 'https://acme.okta.com.evil.example' }, 'is not an Okta org host'],
  ])('refuses %s', (_what, source, message) => {
    const create = () => createOktaClient(testSource(source), { clock: new VirtualClock() });
    expect(create).toThrow(OktaConfigError);
    expect(create).toThrow(message);
  });

  it('accepts Okta org hosts, a custom domain only when opted in, and loopback only when allowed', () => {
    const clock = new VirtualClock();
    for (const domain of [
      'https://acme.okta.com',
      'https://acme.oktapreview.com',
      'https://acme.okta-emea.com',
      'https://acme.okta-gov.com',
      'https://acme.okta.mil',
    ]) {
      expect(createOktaClient(testSource({ domain }), { clock }).origin).toBe(domain);
    }
    expect(createOktaClient(testSource({ domain: 'https://logs.example.com', allowCustomDomain: true }), { clock }).origin).toBe(
      'https://logs.example.com',
    );
    expect(() => createOktaClient(testSource({ domain: 'http://127.0.0.1:8080' }), { clock })).toThrow(
      'OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1',
    );
    expect(createOktaClient(testSource({ domain: 'http://localhost:8080' }), { clock, allowLoopback: true }).origin).toBe(
      'http://localhost:8080',
    );
  });
});

describe('createOktaClient: rate limits', () => {
  it('waits for the reset (Reset - Date + 1 s) once Remaining is down to the 20 % reserve, instead of spending it', async () => {
    const clock = new VirtualClock();
    const serverNow = clock.now() - 7_000; // the org's clock is 7 s behind ours: only Reset - Date matters
    const org = await serve(() => ({
      headers: {
        link: `<${org.origin}/api/v1/logs?after=n>; rel="next"`,
        date: httpDate(serverNow),
        'x-rate-limit-limit': '50',
        'x-rate-limit-remaining': '10',
        'x-rate-limit-reset': String(serverNow / 1000 + 42),
      },
      body: page(0, 1000),
    }));
    const client = clientFor(org.origin, clock);
    const waits: number[] = [];

    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    expect(clock.slept).toEqual([]);
    await client.fetchPage({ nextUrl: `${org.origin}/api/v1/logs?after=n` }, { onRateLimitWait: (ms) => waits.push(ms) });

    expect(clock.slept).toEqual([43_000]);
    expect(waits).toEqual([43_000]);
    expect(org.requests).toHaveLength(2);
  });

  it('does not wait while Remaining is above the reserve', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => ({
      headers: {
        link: `<${org.origin}/api/v1/logs?after=n>; rel="next"`,
        date: httpDate(clock.now()),
        'x-rate-limit-limit': '50',
        'x-rate-limit-remaining': '11',
        'x-rate-limit-reset': String(clock.now() / 1000 + 42),
      },
      body: page(0, 10),
    }));
    const client = clientFor(org.origin, clock);

    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    await client.fetchPage({ nextUrl: `${org.origin}/api/v1/logs?after=n` });

    expect(clock.slept).toEqual([]);
  });

  it('on 429 waits until the reset measured against Date (+1 s), then retries the same request', async () => {
    const clock = new VirtualClock();
    const org = await serve((_request, index): Script =>
      index === 0
        ? {
            status: 429,
            headers: {
              date: httpDate(clock.now()),
              'x-rate-limit-limit': '50',
              'x-rate-limit-remaining': '0',
              'x-rate-limit-reset': String(clock.now() / 1000 + 17),
            },
            body: JSON.stringify({ errorCode: 'E0000047', errorSummary: 'API call exceeded rate limit due to too many requests.' }),
          }
        : { headers: { link: `<${org.origin}/api/v1/logs?after=n>; rel="next"` }, body: page(0, 3) },
    );

    const result = await clientFor(org.origin, clock).fetchPage({ nextUrl: `${org.origin}/api/v1/logs?after=m` });

    expect(clock.slept).toEqual([18_000]);
    expect(org.requests.map((request) => request.url)).toEqual(['/api/v1/logs?after=m', '/api/v1/logs?after=m']);
    expect(result.events).toHaveLength(3);
  });

  it.each([
    ['a reset in the past', (now: number) => ({ 'x-rate-limit-reset': String(Math.floor(now / 1000) - 3600), date: httpDate(now) })],
    ['garbage headers', () => ({ 'x-rate-limit-reset': 'soon', 'x-rate-limit-limit': 'many', date: 'yesterday' })],
    ['no headers at all', () => ({})],
  ])('on 429 with %s waits the bounded minimum (never zero), and gives up after maxRateLimitRetries', async (_what, headers) => {
    const clock = new VirtualClock();
    const org = await serve(() => ({ status: 429, headers: headers(clock.now()), body: JSON.stringify({ errorCode: 'E0000047' }) }));

    const error = await caught(clientFor(org.origin, clock, { maxRateLimitRetries: 3 }).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

    expect(error).toBeInstanceOf(OktaRateLimitError);
    expect((error as OktaRateLimitError).deferred).toBe(false);
    expect((error as Error).message).toContain('answered 429 E0000047 4 times in a row');
    expect(clock.slept).toEqual([1_000, 1_000, 1_000]);
    expect(org.requests).toHaveLength(4);
  });

  it('caps a reset absurdly far away at maxRateLimitWaitMs', async () => {
    const clock = new VirtualClock();
    const org = await serve((_request, index) =>
      index === 0
        ? { status: 429, headers: { date: httpDate(clock.now()), 'x-rate-limit-reset': String(clock.now() / 1000 + 86_400) } }
        : { body: '[]' },
    );

    await clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(clock.slept).toEqual([61_000]);
  });

  it('does not send the request, and says it is deferred, when the reset comes after the deadline', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => ({
      status: 429,
      headers: { date: httpDate(clock.now()), 'x-rate-limit-reset': String(clock.now() / 1000 + 30) },
    }));

    const error = await caught(
      clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }, { deadline: clock.now() + 10_000 }),
    );

    expect(error).toBeInstanceOf(OktaRateLimitError);
    expect(error).toMatchObject({ deferred: true, retryAt: clock.now() + 31_000 });
    expect(org.requests).toHaveLength(1);
    expect(clock.slept).toEqual([]);
  });
});

describe('createOktaClient: retries and bounds', () => {
  it('retries a 500 with backoff and then succeeds', async () => {
    const clock = new VirtualClock();
    const org = await serve((_request, index) =>
      index === 0
        ? { status: 500, body: JSON.stringify({ errorCode: 'E0000009', errorSummary: 'Internal Server Error' }) }
        : { body: page(0, 2) },
    );

    const result = await clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(result.events).toHaveLength(2);
    expect(org.requests).toHaveLength(2);
    expect(clock.slept).toEqual([250]); // full jitter: random (0.5) times the first ceiling, 500 ms
  });

  it('backs off exponentially and gives up after maxAttempts with a typed error', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => ({ status: 503, headers: { 'content-type': 'text/html' }, body: '<html>503</html>' }));

    const error = await caught(clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

    expect(error).toBeInstanceOf(OktaUnavailableError);
    expect((error as Error).message).toBe(
      `source acme: GET ${org.origin}/api/v1/logs answered 503; gave up after 4 failed attempt(s): maxAttempts is 4`,
    );
    expect(clock.slept).toEqual([250, 500, 1_000]);
  });

  it('does not count 429 waits against the attempts meant for failures', async () => {
    const clock = new VirtualClock();
    const org = await serve((_request, index): Script => {
      if (index < 3) return { status: 429, headers: { date: httpDate(clock.now()), 'x-rate-limit-reset': String(clock.now() / 1000 + 5) } };
      if (index < 6) return { status: 500 };
      return { body: page(0, 1) };
    });

    const result = await clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(result.events).toHaveLength(1);
    expect(org.requests).toHaveLength(7);
    expect(clock.slept).toEqual([6_000, 6_000, 6_000, 250, 500, 1_000]);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => ({ status: 500 }));

    const error = await caught(
      clientFor(org.origin, clock, { maxAttempts: 10, retryBudgetMs: 2_000 }).fetchPage({ since: '2026-01-01T00:00:00.000Z' }),
    );

    expect((error as Error).message).toContain('retry budget of 2000 ms (retryBudgetMs) is spent');
    expect(clock.slept).toEqual([250, 500, 1_000]); // the next, 2 000, would pass 2 000 in all
  });

  it('retries a reset connection and a truncated body', async () => {
    const clock = new VirtualClock();
    const org = await serve((_request, index): Script => {
      if (index === 0) return 'reset';
      if (index === 1) return { body: page(0, 2).slice(0, 40) };
      return { body: page(0, 2) };
    });

    const result = await clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(result.events).toHaveLength(2);
    expect(org.requests).toHaveLength(3);
  });

  it('times out a request that never answers', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => 'hang');

    const error = await caught(
      clientFor(org.origin, clock, { requestTimeoutMs: 50, maxAttempts: 2 }).fetchPage({ since: '2026-01-01T00:00:00.000Z' }),
    );

    expect(error).toBeInstanceOf(OktaUnavailableError);
    expect((error as Error).message).toContain('no complete answer within 50 ms (requestTimeoutMs)');
    // Counted by the client: on a loaded machine a 50 ms timeout can end an attempt before the
    // server has even read its request, so the server's count may be lower.
    expect((error as Error).message).toContain('gave up after 2 failed attempt(s)');
    expect(org.requests.length).toBeLessThanOrEqual(2);
  });

  it('asks again for a page over maxResponseBytes with half the limit, down to the size that fits', async () => {
    const clock = new VirtualClock();
    const limitOf = (url: string) => Number(new URL(url, 'http://x').searchParams.get('limit'));
    const org = await serve((request) => ({
      headers: { link: `<${org.origin}/api/v1/logs?after=n&limit=${limitOf(request.url)}>; rel="next"` },
      body: page(0, limitOf(request.url)),
    }));
    const splits: number[] = [];

    const result = await clientFor(org.origin, clock, { maxResponseBytes: 1_000, pageSize: 40 }).fetchPage(
      { since: '2026-01-01T00:00:00.000Z' },
      { onPageSplit: (limit) => splits.push(limit) },
    );

    // testEvent is about 165 bytes: 40, 20 and 10 events are over 1,000 bytes, 5 are not.
    expect(org.requests.map((request) => limitOf(request.url))).toEqual([40, 20, 10, 5]);
    expect(splits).toEqual([20, 10, 5]);
    expect(result.events).toHaveLength(5);
    expect(result.caughtUp).toBe(false);
  });
});

describe('createOktaClient: errors', () => {
  it('gives a 401 as OktaAuthError after one request, with no trace of the token anywhere', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => ({
      status: 401,
      body: JSON.stringify({ errorCode: 'E0000011', errorSummary: `Invalid token provided: ${TOKEN}` }),
    }));

    const error = await caught(clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

    expect(error).toBeInstanceOf(OktaAuthError);
    expect(error).toMatchObject({ kind: 'auth', status: 401, errorCode: 'E0000011', sourceId: 'acme' });
    expect((error as Error).message).toContain('answered 401 E0000011 (Invalid token provided: [redacted])');
    expect((error as Error).message).toContain('apiToken');
    expect(everythingShown(error)).not.toContain(TOKEN);
    expect(org.requests).toHaveLength(1);
    expect(clock.slept).toEqual([]);
  });

  it('keeps the token out of network errors too', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => 'reset');

    const error = await caught(clientFor(org.origin, clock, { maxAttempts: 2 }).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

    expect(error).toBeInstanceOf(OktaUnavailableError);
    expect((error as Error).cause).toBeDefined();
    expect(everythingShown(error)).not.toContain(TOKEN);
  });

  it.each([
    [403, 'E0000006', OktaPermissionError, 'permission'],
    [400, 'E0000053', OktaBadRequestError, 'bad-request'],
    [404, 'E0000007', OktaConfigError, 'config'],
  ])('maps %i to its typed error without retrying', async (status, errorCode, type, kind) => {
    const clock = new VirtualClock();
    const org = await serve(() => ({ status, body: JSON.stringify({ errorCode, errorSummary: 'nope' }) }));

    const error = await caught(clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }));

    expect(error).toBeInstanceOf(type);
    expect(error).toMatchObject({ kind, status, errorCode });
    expect(org.requests).toHaveLength(1);
  });

  it('stops at once, throwing the abort reason, when the caller aborts', async () => {
    const clock = new VirtualClock();
    const org = await serve(() => 'hang');
    const controller = new AbortController();
    const pending = caught(clientFor(org.origin, clock).fetchPage({ since: '2026-01-01T00:00:00.000Z' }, { signal: controller.signal }));
    while (org.requests.length === 0) await new Promise((resolve) => setImmediate(resolve));

    controller.abort(new Error('interrupted'));

    expect(await pending).toEqual(new Error('interrupted'));
    expect(org.requests).toHaveLength(1);
  });
});
