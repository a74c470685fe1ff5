import type { Clock } from '../../lambdas/core/ports';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { VirtualClock } from '../support/virtual-clock';

describe('okta emulator: injected faults', () => {
  let clock: VirtualClock;
  let org: EmulatedOrg;

  beforeEach(async () => {
    clock = new VirtualClock();
    org = await startOktaOrg({ clock, rateLimitPerMinute: 50 });
    org.addEvents([{ uuid: 'u-1', published: new Date(clock.now()).toISOString(), eventType: 'user.session.start' }]);
  });

  afterEach(async () => {
    await org.close();
  });

  const get = (init: RequestInit = {}): Promise<Response> =>
    fetch(`${org.origin}/api/v1/logs`, { ...init, headers: { authorization: `SSWS ${org.apiToken}` } });

  it('answers 500 E0000009 for the next N requests, then recovers', async () => {
    org.inject('server-error', 2);
    const statuses = [];
    for (let i = 0; i < 3; i += 1) {
      const response = await get();
      statuses.push(response.status);
      if (response.status === 500) {
        expect(await response.json()).toMatchObject({ errorCode: 'E0000009' });
        expect(response.headers.get('x-rate-limit-limit')).toBe('50');
      }
    }
    expect(statuses).toEqual([500, 500, 200]);
    expect(org.requests.map((item) => item.fault)).toEqual(['server-error', 'server-error', undefined]);
  });

  it('answers 503 with a non-JSON body', async () => {
    org.inject('unavailable');
    const response = await get();
    expect(response.status).toBe(503);
    expect(response.headers.get('content-type')).toBe('text/html');
    expect(await response.text()).toContain('Service Unavailable');
  });

  it('answers 403 E0000006', async () => {
    org.inject('forbidden');
    const response = await get();
    expect(response.status).toBe(403);
    expect(await response.json()).toMatchObject({ errorCode: 'E0000006' });
  });

  it('answers a burst of 429s with Remaining 0 and the window reset', async () => {
    org.inject('rate-limit', 3);
    const responses = [await get(), await get(), await get(), await get()];
    expect(responses.map((response) => response.status)).toEqual([429, 429, 429, 200]);
    expect(responses[0].headers.get('x-rate-limit-remaining')).toBe('0');
    expect(Number(responses[0].headers.get('x-rate-limit-reset'))).toBe(Math.ceil((clock.now() + 60_000) / 1000));
    expect(await responses[0].json()).toMatchObject({ errorCode: 'E0000047' });
  });

  it('answers a concurrency 429 with Limit and Remaining 0', async () => {
    org.inject('concurrency-limit');
    const response = await get();
    expect(response.status).toBe(429);
    expect(response.headers.get('x-rate-limit-limit')).toBe('0');
    expect(response.headers.get('x-rate-limit-remaining')).toBe('0');
  });

  it('answers a concurrency 429 when more requests are in flight than the org allows', async () => {
    // A clock whose sleep the test releases by hand: the first request is provably held in flight.
    let arrived: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    let release: () => void = () => undefined;
    const gate: Clock = {
      now: () => clock.now(),
      sleep: () => {
        arrived();
        return new Promise((resolve) => {
          release = resolve;
        });
      },
    };
    const small = await startOktaOrg({ clock: gate, concurrencyLimit: 1 });
    try {
      small.inject({ kind: 'slow', ms: 1, via: 'clock' });
      const call = (): Promise<Response> => fetch(`${small.origin}/api/v1/logs`, { headers: { authorization: `SSWS ${small.apiToken}` } });
      const first = call();
      await held;
      const second = await call();
      expect(second.status).toBe(429);
      expect(second.headers.get('x-rate-limit-limit')).toBe('0');
      release();
      expect((await first).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('holds a slow response until the client gives up, and serves the next request at once', async () => {
    org.inject({ kind: 'slow', ms: 60_000 });
    const controller = new AbortController();
    const slow = get({ signal: controller.signal });
    await until(() => org.inFlight === 1);
    controller.abort();
    await expect(slow).rejects.toThrow(/abort/i);
    await until(() => org.requests.length === 1);
    expect(org.requests[0]).toMatchObject({ status: 0, fault: 'slow' });
    expect((await get()).status).toBe(200);
    expect(org.inFlight).toBe(0);
  });

  it('can delay by the org clock instead of a timer', async () => {
    org.inject({ kind: 'slow', ms: 30_000, via: 'clock' });
    const before = clock.now();
    expect((await get()).status).toBe(200);
    expect(clock.now() - before).toBe(30_000);
  });

  it('dates a slow request by its arrival, not by its answer (an observer must know who sent it)', async () => {
    org.inject({ kind: 'slow', ms: 30_000, via: 'clock' });
    const arrival = clock.now();
    expect((await get()).status).toBe(200);
    expect(clock.now()).toBe(arrival + 30_000);
    expect(org.requests).toEqual([expect.objectContaining({ status: 200, fault: 'slow', at: arrival })]);
  });

  it('truncates a body that Content-Length promised in full', async () => {
    org.inject('truncated-body');
    const response = await get();
    expect(response.status).toBe(200);
    expect(Number(response.headers.get('content-length'))).toBeGreaterThan(0);
    await expect(response.text()).rejects.toThrow();
  });

  it('resets the connection before answering', async () => {
    org.inject('connection-reset');
    await expect(get()).rejects.toThrow(/fetch failed/);
    expect(org.requests[0]).toMatchObject({ status: 0, fault: 'connection-reset' });
    expect((await get()).status).toBe(200);
  });

  it('points the next link at another origin, by default and when told which', async () => {
    org.inject('foreign-next-link');
    org.inject({ kind: 'foreign-next-link', origin: 'http://127.0.0.1:9' });
    const first = (await get()).headers.get('link') ?? '';
    const second = (await get()).headers.get('link') ?? '';
    const third = (await get()).headers.get('link') ?? '';
    expect(first).toMatch(/<https:\/\/attacker\.example\/api\/v1\/logs\?[^>]+>; rel="next"/);
    expect(second).toMatch(/<http:\/\/127\.0\.0\.1:9\/api\/v1\/logs\?[^>]+>; rel="next"/);
    expect(third).toContain(`<${org.origin}/api/v1/logs?`);
    // The self link is untouched: only the next link is foreign.
    expect(first).toContain(`<${org.origin}/api/v1/logs>; rel="self"`);
  });

  it('refuses a bad number of times', () => {
    expect(() => org.inject('server-error', 0)).toThrow(RangeError);
  });

  it('clears faults not yet applied', async () => {
    org.inject('server-error', 5);
    org.clearFaults();
    expect((await get()).status).toBe(200);
  });
});

/** Yields to the event loop until `condition` holds (bounded: the server reacts within a few turns). */
async function until(condition: () => boolean): Promise<void> {
  for (let turn = 0; turn < 1000 && !condition(); turn += 1) {
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  expect(condition()).toBe(true);
}
