import { OktaAuthError, OktaRateLimitError } from '../../lambdas/core/okta';
import { pullSource, type PullDependencies, type PullOptions } from '../../lambdas/core/pull/pull-source';
import type { EventProcessor } from '../../lambdas/core/ports';
import { FakeOktaClient, InMemoryCursorStore, InMemoryQuarantine, InMemoryRecordSink, fakeProcessor, testEvent, testSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';

function setup(events: unknown[] = [], pageSize = 3) {
  const clock = new VirtualClock();
  const okta = new FakeOktaClient(pageSize, events);
  const cursors = new InMemoryCursorStore(clock);
  const sink = new InMemoryRecordSink();
  const quarantine = new InMemoryQuarantine();
  const deps: PullDependencies = { okta, cursors, sink, quarantine, processor: fakeProcessor, clock };
  const options = (overrides: Partial<PullOptions> = {}): PullOptions => ({ owner: 'run-1', deadline: clock.now() + 55_000, leaseMs: 120_000, ...overrides });
  return { clock, okta, cursors, sink, quarantine, deps, options };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => testEvent(from + i));
const uuids = (from: number, to: number) => range(from, to).map((event) => event.uuid);

describe('pullSource', () => {
  it('starts a new source backfillHours back and pulls every page until a short one', async () => {
    const { deps, okta, sink, cursors, clock, options } = setup(range(0, 7));

    const summary = await pullSource(deps, testSource({ backfillHours: 24 }), options());

    expect(okta.requests[0]).toEqual({ since: new Date(clock.now() - 24 * 3_600_000).toISOString() });
    expect(sink.uuids()).toEqual(uuids(0, 7));
    expect(summary).toMatchObject({ sourceId: 'acme', outcome: 'caught-up', pages: 3, delivered: 7, invalid: 0 });
    expect(summary.newestPublished).toBe(testEvent(6).published);
    expect(summary.lastEventAt).toBe(clock.now());
    expect(cursors.cursorOf('acme')).toMatchObject({ nextUrl: 'https://acme.okta.com/api/v1/logs?after=7' });
    expect(cursors.cursorOf('acme')?.lastError).toBeUndefined();
  });

  it('saves the cursor after every page, each pointing at the next link of that page', async () => {
    const { deps, cursors, options } = setup(range(0, 7));

    await pullSource(deps, testSource(), options());

    expect(cursors.saves.map((save) => save.cursor.nextUrl)).toEqual([3, 6, 7].map((n) => `https://acme.okta.com/api/v1/logs?after=${n}`));
  });

  it('starts from startAt when given and the source has no cursor', async () => {
    const { deps, okta, options } = setup();

    await pullSource(deps, testSource(), options({ startAt: Date.parse('2025-12-31T23:00:00.000Z') }));

    expect(okta.requests[0]).toEqual({ since: '2025-12-31T23:00:00.000Z' });
  });

  it('resumes from the stored next link: later events are delivered once, with no gap', async () => {
    const { deps, okta, sink, options, clock } = setup(range(0, 4));
    await pullSource(deps, testSource(), options());
    okta.stored.push(...range(4, 9));
    clock.advance(60_000);

    const second = await pullSource(deps, testSource(), options({ owner: 'run-2', deadline: clock.now() + 55_000 }));

    expect(okta.requests.slice(2)[0]).toEqual({ nextUrl: 'https://acme.okta.com/api/v1/logs?after=4' });
    expect(sink.uuids()).toEqual(uuids(0, 9));
    expect(second).toMatchObject({ outcome: 'caught-up', delivered: 5 });
  });

  it('keeps newestPublished and lastEventAt through an empty page, and still advances the next link', async () => {
    const { deps, cursors, options, clock } = setup(range(0, 2));
    const first = await pullSource(deps, testSource(), options());
    clock.advance(60_000);

    const second = await pullSource(deps, testSource(), options({ owner: 'run-2' }));

    expect(second).toMatchObject({ outcome: 'caught-up', pages: 1, delivered: 0 });
    expect(second.newestPublished).toBe(first.newestPublished);
    expect(second.lastEventAt).toBe(first.lastEventAt);
    expect(cursors.saves).toHaveLength(2);
    expect(cursors.cursorOf('acme')?.updatedAt).toBe(clock.now());
  });

  it('quarantines invalid events and sink-refused records, and the cursor moves past them', async () => {
    const events = [testEvent(0), { uuid: 'bad-1', published: 'redacted' }, testEvent(2), 'not an object'];
    const { deps, quarantine, cursors, options, clock } = setup(events, 10);
    const sink = new InMemoryRecordSink((record) => (record.uuid === 'uuid-000002' ? 'record larger than 1 MiB' : undefined));

    const summary = await pullSource({ ...deps, sink }, testSource(), options());

    expect(sink.uuids()).toEqual(['uuid-000000']);
    expect(quarantine.items.map((item) => item.errors)).toEqual([
      ['published: required timestamp'],
      ['event is not an object'],
      ['refused by the record sink: record larger than 1 MiB'],
    ]);
    expect(quarantine.items[0]).toEqual({ sourceId: 'acme', event: events[1], errors: ['published: required timestamp'], receivedAt: clock.now() });
    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 1, invalid: 3, newestPublished: testEvent(0).published });
    expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=4');
  });

  it('quarantines an event on which the processor throws instead of blocking the source', async () => {
    const { deps, quarantine, sink, options } = setup(range(0, 2), 10);
    const processor: EventProcessor = {
      logType: 'Okta.SystemLog',
      process: (event, context) => {
        if ((event as { uuid: string }).uuid === 'uuid-000000') throw new Error('boom');
        return fakeProcessor.process(event, context);
      },
    };

    const summary = await pullSource({ ...deps, processor }, testSource(), options());

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 1, invalid: 1 });
    expect(sink.uuids()).toEqual(['uuid-000001']);
    expect(quarantine.items[0]?.errors).toEqual(['the Okta.SystemLog processor failed: boom']);
  });

  it('re-delivers a page when the run dies between the sink write and the cursor save (at-least-once)', async () => {
    const { deps, cursors, sink, options, clock } = setup(range(0, 7));
    cursors.saveFailures.set(2, new Error('process killed'));

    const crashed = await pullSource(deps, testSource(), options());
    expect(crashed.outcome).toBe('failed');
    expect(crashed.error?.kind).toBe('internal');
    expect(crashed.error?.message).toBe('source acme: saving the cursor failed: process killed');
    expect(sink.uuids()).toEqual(uuids(0, 6));
    expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=3');

    clock.advance(60_000);
    const resumed = await pullSource(deps, testSource(), options({ owner: 'run-2', deadline: clock.now() + 55_000 }));

    expect(resumed.outcome).toBe('caught-up');
    expect(sink.uuids()).toEqual([...uuids(0, 6), ...uuids(3, 7)]);
    expect(new Set(sink.uuids())).toEqual(new Set(uuids(0, 7)));
  });

  it('does not move the cursor when the sink fails, and records the error on the cursor', async () => {
    const { deps, cursors, sink, options } = setup(range(0, 2));
    sink.failures.push(new Error('stream throttled'));

    const summary = await pullSource(deps, testSource(), options());

    expect(summary.outcome).toBe('failed');
    expect(summary.error).toEqual({ kind: 'internal', message: 'source acme: delivering records failed: stream throttled' });
    expect(cursors.cursorOf('acme')).toEqual({ lastError: 'source acme: delivering records failed: stream throttled', updatedAt: expect.any(Number) });
    expect(summary.delivered).toBe(0);
  });

  it('reports an Okta error by kind and keeps the stored next link', async () => {
    const { deps, okta, cursors, options, clock } = setup(range(0, 2));
    await pullSource(deps, testSource(), options());
    okta.failNext(new OktaAuthError('acme', 'GET https://acme.okta.com/api/v1/logs answered 401 E0000011', { status: 401 }));
    clock.advance(60_000);

    const summary = await pullSource(deps, testSource(), options({ owner: 'run-2' }));

    expect(summary.outcome).toBe('failed');
    expect(summary.error).toEqual({ kind: 'auth', message: 'source acme: GET https://acme.okta.com/api/v1/logs answered 401 E0000011' });
    expect(cursors.cursorOf('acme')).toMatchObject({ nextUrl: 'https://acme.okta.com/api/v1/logs?after=2', lastError: summary.error?.message });
  });

  it('clears lastError once a page succeeds again', async () => {
    const { deps, okta, cursors, options } = setup(range(0, 2));
    okta.failNext(new Error('socket hang up'));
    await pullSource(deps, testSource(), options());
    expect(cursors.cursorOf('acme')?.lastError).toBe('source acme: fetching a page failed: socket hang up');

    await pullSource(deps, testSource(), options({ owner: 'run-2' }));

    expect(cursors.cursorOf('acme')?.lastError).toBeUndefined();
  });

  it('does nothing while another run holds the lease', async () => {
    const { deps, okta, cursors, options } = setup(range(0, 2));
    await cursors.acquire('acme', 'someone-else', 120_000);

    const summary = await pullSource(deps, testSource(), options());

    expect(summary).toMatchObject({ outcome: 'lease-held', pages: 0, delivered: 0 });
    expect(okta.requests).toHaveLength(0);
  });

  it('releases the lease at the end so the next run can take it', async () => {
    const { deps, cursors, options } = setup(range(0, 2));

    await pullSource(deps, testSource(), options());

    expect(await cursors.acquire('acme', 'run-2', 1_000)).toBeDefined();
  });

  it('stops with lease-lost when another run took the lease over', async () => {
    const { deps, cursors, options, clock } = setup(range(0, 5));
    const okta = new FakeOktaClient(3, range(0, 5));
    const stealing = {
      ...okta,
      origin: okta.origin,
      sourceId: okta.sourceId,
      fetchPage: async (...args: Parameters<FakeOktaClient['fetchPage']>) => {
        const page = await okta.fetchPage(...args);
        clock.advance(200_000);
        await cursors.acquire('acme', 'run-2', 120_000);
        return page;
      },
    };

    const summary = await pullSource({ ...deps, okta: stealing }, testSource(), options());

    expect(summary.outcome).toBe('failed');
    expect(summary.error?.kind).toBe('lease-lost');
    expect(cursors.saves).toHaveLength(0);
  });

  it('stops at the deadline between pages and leaves the cursor on the last saved page', async () => {
    const { deps, okta, cursors, options, clock } = setup(range(0, 10));
    const deadline = clock.now() + 25_000;
    const slow = {
      sourceId: okta.sourceId,
      origin: okta.origin,
      fetchPage: async (...args: Parameters<FakeOktaClient['fetchPage']>) => {
        clock.advance(10_000);
        return okta.fetchPage(...args);
      },
    };

    const summary = await pullSource({ ...deps, okta: slow }, testSource(), options({ deadline }));

    expect(summary).toMatchObject({ outcome: 'deadline', pages: 3, delivered: 9 });
    expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=9');
  });

  it('stops (outcome deadline) when the rate-limit reset comes after the deadline, counting it as a wait', async () => {
    const { deps, okta, options, clock } = setup(range(0, 2));
    okta.failNext(new OktaRateLimitError('acme', 'reset after deadline', clock.now() + 70_000, true));

    const summary = await pullSource(deps, testSource(), options());

    expect(summary).toMatchObject({ outcome: 'deadline', pages: 0, rateLimitWaits: 1 });
    expect(summary.error).toBeUndefined();
  });

  it('reports a 429 that kept coming as a rate-limited failure', async () => {
    const { deps, okta, options, clock } = setup(range(0, 2));
    okta.failNext(new OktaRateLimitError('acme', 'answered 429 four times', clock.now() + 1_000, false));

    const summary = await pullSource(deps, testSource(), options());

    expect(summary.outcome).toBe('failed');
    expect(summary.error?.kind).toBe('rate-limited');
  });

  it('counts the rate-limit waits the client reports', async () => {
    const { deps, okta, options } = setup(range(0, 2));
    const waiting = {
      sourceId: okta.sourceId,
      origin: okta.origin,
      fetchPage: async (...args: Parameters<FakeOktaClient['fetchPage']>) => {
        args[1]?.onRateLimitWait?.(12_000);
        return okta.fetchPage(...args);
      },
    };

    const summary = await pullSource({ ...deps, okta: waiting }, testSource(), options());

    expect(summary).toMatchObject({ rateLimitWaits: 1, rateLimitWaitMs: 12_000 });
  });

  it('stops before the next page once the signal is aborted, and calls onPage after each saved page', async () => {
    const { deps, options } = setup(range(0, 10));
    const controller = new AbortController();
    const seen: number[] = [];

    const summary = await pullSource(deps, testSource(), options({
      signal: controller.signal,
      onPage: (progress) => {
        seen.push(progress.delivered);
        if (progress.pages === 2) controller.abort();
      },
    }));

    expect(seen).toEqual([3, 6]);
    expect(summary).toMatchObject({ outcome: 'deadline', pages: 2 });
  });
});
