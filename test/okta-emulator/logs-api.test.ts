import { startOktaOrg, type EmulatedOrg, type OktaEvent } from '../../local/okta-emulator';
import { VirtualClock } from '../support/virtual-clock';

const MINUTE = 60_000;

function event(n: number, published: number): OktaEvent {
  return {
    uuid: `uuid-${n}`,
    published: new Date(published).toISOString(),
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    actor: { id: `00u${n}`, type: 'User' },
  };
}

function events(count: number, from: number, firstNumber = 0): OktaEvent[] {
  return Array.from({ length: count }, (_, i) => event(firstNumber + i, from + i));
}

interface Page {
  status: number;
  body: unknown;
  headers: Headers;
  links: Record<string, string>;
}

async function get(org: EmulatedOrg, url: string, token = org.apiToken): Promise<Page> {
  const response = await fetch(url.startsWith('http') ? url : `${org.origin}${url}`, {
    headers: { authorization: `SSWS ${token}` },
  });
  const body: unknown = await response.json();
  return { status: response.status, body, headers: response.headers, links: parseLinks(response.headers) };
}

function parseLinks(headers: Headers): Record<string, string> {
  const links: Record<string, string> = {};
  for (const value of splitLinkLines(headers)) {
    const match = /^<([^>]+)>;\s*rel="([^"]+)"$/.exec(value.trim());
    if (match) {
      links[match[2]] = match[1];
    }
  }
  return links;
}

/** fetch joins repeated header lines with ", "; split them back at each `<`. */
function splitLinkLines(headers: Headers): string[] {
  return (headers.get('link') ?? '').split(/,\s*(?=<)/).filter((part) => part !== '');
}

function uuids(body: unknown): string[] {
  return (body as Array<{ uuid: string }>).map((item) => item.uuid);
}

describe('okta emulator: /api/v1/logs', () => {
  let clock: VirtualClock;
  let org: EmulatedOrg;

  beforeEach(async () => {
    clock = new VirtualClock();
    org = await startOktaOrg({ clock, rateLimitPerMinute: 1000 });
  });

  afterEach(async () => {
    await org.close();
  });

  it('pages through a backlog with next links, every event once, in storage order', async () => {
    org.addEvents(events(2500, clock.now() - 30 * MINUTE));
    const since = new Date(clock.now() - 60 * MINUTE).toISOString();

    const seen: string[] = [];
    const sizes: number[] = [];
    let page = await get(org, `/api/v1/logs?since=${since}&limit=1000&sortOrder=ASCENDING`);
    for (;;) {
      expect(page.status).toBe(200);
      sizes.push((page.body as unknown[]).length);
      seen.push(...uuids(page.body));
      if ((page.body as unknown[]).length < 1000) {
        break;
      }
      page = await get(org, page.links.next);
    }

    expect(sizes).toEqual([1000, 1000, 500]);
    expect(seen).toEqual(Array.from({ length: 2500 }, (_, i) => `uuid-${i}`));
  });

  it('sends self and next as two separate link header lines, next on an empty page too', async () => {
    const response = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
      // node:http keeps repeated header lines apart (rawHeaders), which fetch would join.
      void import('node:http').then(({ get: httpGet }) => {
        httpGet(`${org.origin}/api/v1/logs`, { headers: { authorization: `SSWS ${org.apiToken}` } }, resolve).on('error', reject);
      });
    });
    response.resume();
    const linkLines: string[] = [];
    for (let i = 0; i < response.rawHeaders.length; i += 2) {
      if (response.rawHeaders[i].toLowerCase() === 'link') {
        linkLines.push(response.rawHeaders[i + 1]);
      }
    }

    expect(linkLines).toHaveLength(2);
    expect(linkLines[0]).toBe(`<${org.origin}/api/v1/logs>; rel="self"`);
    expect(linkLines[1]).toMatch(new RegExp(`^<${org.origin}/api/v1/logs\\?[^>]*after=[^>]+>; rel="next"$`));
  });

  it('keeps a polling cursor at the end: new and late events stored later reach it', async () => {
    org.addEvents(events(3, clock.now() - MINUTE));
    const first = await get(org, `/api/v1/logs?since=${new Date(clock.now() - 10 * MINUTE).toISOString()}`);
    expect(uuids(first.body)).toEqual(['uuid-0', 'uuid-1', 'uuid-2']);

    const empty = await get(org, first.links.next);
    expect(empty.body).toEqual([]);
    expect(empty.links.next).toBe(first.links.next);

    clock.advance(MINUTE);
    // Published an hour before the events already delivered, stored only now.
    org.addEvents([event(100, clock.now() - 60 * MINUTE), event(101, clock.now())]);
    const later = await get(org, empty.links.next);
    expect(uuids(later.body)).toEqual(['uuid-100', 'uuid-101']);
  });

  it('stores events with a future storage time only once the clock reaches it', async () => {
    org.addEvents([event(1, clock.now())]);
    org.addEvents([event(2, clock.now() - 5 * MINUTE)], { storedAt: clock.now() + 2 * MINUTE });
    const first = await get(org, `/api/v1/logs?since=${new Date(clock.now() - MINUTE).toISOString()}`);
    expect(uuids(first.body)).toEqual(['uuid-1']);

    clock.advance(2 * MINUTE);
    const second = await get(org, first.links.next);
    expect(uuids(second.body)).toEqual(['uuid-2']);
    expect(org.storedEvents().map((item) => item.uuid)).toEqual(['uuid-1', 'uuid-2']);
  });

  it('filters a polling since on storage time', async () => {
    org.addEvents([event(1, clock.now())]);
    clock.advance(10 * MINUTE);
    org.addEvents([event(2, clock.now() - 20 * MINUTE)]);
    const page = await get(org, `/api/v1/logs?since=${new Date(clock.now() - 5 * MINUTE).toISOString()}`);
    expect(uuids(page.body)).toEqual(['uuid-2']);
  });

  it('orders bounded requests by published, both directions, with no next link on the last page', async () => {
    const base = clock.now() - 30 * MINUTE;
    org.addEvents([event(3, base + 3000), event(1, base + 1000), event(2, base + 2000), event(9, base - 1)]);
    const since = new Date(base).toISOString();
    const until = new Date(base + 10 * MINUTE).toISOString();

    const ascending = await get(org, `/api/v1/logs?since=${since}&until=${until}&limit=2`);
    expect(uuids(ascending.body)).toEqual(['uuid-1', 'uuid-2']);
    const last = await get(org, ascending.links.next);
    expect(uuids(last.body)).toEqual(['uuid-3']);
    expect(last.links.next).toBeUndefined();
    expect(last.links.self).toBe(ascending.links.next);

    const descending = await get(org, `/api/v1/logs?since=${since}&until=${until}&limit=2&sortOrder=DESCENDING`);
    expect(uuids(descending.body)).toEqual(['uuid-3', 'uuid-2']);
    const rest = await get(org, descending.links.next);
    expect(uuids(rest.body)).toEqual(['uuid-1']);
    expect(rest.links.next).toBeUndefined();
  });

  it.each([
    ['limit=1001', 'E0000001'],
    ['limit=-1', 'E0000001'],
    ['limit=ten', 'E0000001'],
    ['sortOrder=UP', 'E0000001'],
    ['since=yesterday', 'E0000001'],
    ['after=bm90LWEtY3Vyc29y', 'E0000001'],
  ])('refuses %s with 400 %s', async (query, code) => {
    const page = await get(org, `/api/v1/logs?${query}`);
    expect(page.status).toBe(400);
    expect(page.body).toMatchObject({
      errorCode: code,
      errorLink: code,
      errorCauses: [expect.objectContaining({ errorSummary: expect.any(String) })],
    });
  });

  it('refuses a since older than 180 days with 400 E0000053', async () => {
    const page = await get(org, `/api/v1/logs?since=${new Date(clock.now() - 181 * 24 * 60 * MINUTE).toISOString()}`);
    expect(page.status).toBe(400);
    expect(page.body).toMatchObject({ errorCode: 'E0000053' });
  });

  it('keeps since in a polling next link next to after, as Okta does, and lets after win', async () => {
    org.addEvents(events(5, clock.now() - 30 * MINUTE));
    const since = new Date(clock.now() - 60 * MINUTE).toISOString();
    const first = await get(org, `/api/v1/logs?since=${since}&limit=2&sortOrder=ASCENDING`);
    const next = new URL(first.links.next);
    expect([...next.searchParams.keys()]).toEqual(['since', 'limit', 'sortOrder', 'after']);
    expect(next.searchParams.get('since')).toBe(since);

    const second = await get(org, first.links.next);
    expect(second.status).toBe(200);
    const uuids = (page: Page) => (page.body as { uuid: string }[]).map((e) => e.uuid);
    expect(uuids(first)).toHaveLength(2);
    expect(uuids(second)).toHaveLength(2);
    expect(uuids(second)).not.toContain(uuids(first)[0]);
  });

  it('sends X-Okta-Request-Id on every answer, and rate-limit headers on 404 and 405 too', async () => {
    const answers = await Promise.all([
      fetch(`${org.origin}/api/v1/logs`, { headers: { authorization: `SSWS ${org.apiToken}` } }),
      fetch(`${org.origin}/api/v1/users`, { headers: { authorization: `SSWS ${org.apiToken}` } }),
      fetch(`${org.origin}/api/v1/logs`, { method: 'DELETE', headers: { authorization: `SSWS ${org.apiToken}` } }),
      fetch(`${org.origin}/oauth2/v1/token`),
    ]);
    expect(answers.map((answer) => answer.status)).toEqual([200, 404, 405, 405]);
    const ids = answers.map((answer) => answer.headers.get('x-okta-request-id'));
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{20,}$/);
    expect(new Set(ids).size).toBe(4);
    for (const answer of answers) {
      expect(answer.headers.get('x-rate-limit-limit')).toMatch(/^\d+$/);
      expect(answer.headers.get('x-rate-limit-remaining')).toMatch(/^\d+$/);
      expect(answer.headers.get('x-rate-limit-reset')).toMatch(/^\d+$/);
    }
  });

  it('refuses a cursor of another org', async () => {
    const other = await startOktaOrg({ clock });
    try {
      const foreign = await get(other, '/api/v1/logs', other.apiToken);
      const after = new URL(foreign.links.next).searchParams.get('after');
      const page = await get(org, `/api/v1/logs?after=${after}`);
      expect(page.status).toBe(400);
      expect(page.body).toMatchObject({ errorCode: 'E0000001' });
    } finally {
      await other.close();
    }
  });

  it('answers 401 E0000011 for a wrong token and for a revoked one, and never records the token', async () => {
    expect((await get(org, '/api/v1/logs')).status).toBe(200);
    const wrong = await get(org, '/api/v1/logs', `${org.apiToken}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ errorCode: 'E0000011', errorSummary: 'Invalid token provided' });

    org.revokeToken();
    const revoked = await get(org, '/api/v1/logs');
    expect(revoked.status).toBe(401);
    expect(revoked.body).toMatchObject({ errorCode: 'E0000011' });
    org.restoreToken();
    expect((await get(org, '/api/v1/logs')).status).toBe(200);

    expect(org.requests.map((request) => [request.status, request.authScheme])).toEqual([
      [200, 'SSWS'],
      [401, 'SSWS'],
      [401, 'SSWS'],
      [200, 'SSWS'],
    ]);
    expect(JSON.stringify(org.requests)).not.toContain(org.apiToken);
  });

  it('answers 404 for other paths', async () => {
    const page = await get(org, '/api/v1/users');
    expect(page.status).toBe(404);
    expect(page.body).toMatchObject({ errorCode: 'E0000007' });
  });
});

describe('okta emulator: rate limits', () => {
  it('counts down X-Rate-Limit-Remaining, then answers a real 429 until the window resets', async () => {
    const clock = new VirtualClock(Date.parse('2026-01-01T00:00:30.250Z'));
    const org = await startOktaOrg({ clock, rateLimitPerMinute: 3 });
    try {
      const remaining: string[] = [];
      for (let i = 0; i < 3; i += 1) {
        const page = await get(org, '/api/v1/logs');
        expect(page.status).toBe(200);
        expect(page.headers.get('x-rate-limit-limit')).toBe('3');
        remaining.push(page.headers.get('x-rate-limit-remaining') ?? '');
        clock.advance(1000);
      }
      expect(remaining).toEqual(['2', '1', '0']);

      const refused = await get(org, '/api/v1/logs');
      expect(refused.status).toBe(429);
      expect(refused.body).toEqual({
        errorCode: 'E0000047',
        errorSummary: 'API call exceeded rate limit due to too many requests.',
        errorLink: 'E0000047',
        errorId: expect.stringMatching(/^oae/),
        errorCauses: [],
      });
      expect(refused.headers.get('x-rate-limit-remaining')).toBe('0');
      // The window opened with the first request (00:00:30.250), not at a minute boundary.
      const reset = Number(refused.headers.get('x-rate-limit-reset'));
      expect(reset).toBe(Math.ceil(Date.parse('2026-01-01T00:01:30.250Z') / 1000));
      const date = Date.parse(refused.headers.get('date') ?? '');
      expect(date).toBe(Date.parse('2026-01-01T00:00:33.000Z'));
      expect(reset * 1000 - date).toBe(58_000);

      clock.advance(reset * 1000 - clock.now());
      const after = await get(org, '/api/v1/logs');
      expect(after.status).toBe(200);
      expect(after.headers.get('x-rate-limit-remaining')).toBe('2');
    } finally {
      await org.close();
    }
  });
});
