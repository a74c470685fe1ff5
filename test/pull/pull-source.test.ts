import { OktaAuthError, OktaRateLimitError } from '../../lambdas/core/okta';
import { pullSource, type PullDependencies, type PullOptions } from '../../lambdas/core/pull/pull-source';
import { PageBudget } from '../../lambdas/core/memory/page-budget';
import type { FetchPageOptions, LogPage, PageRequest } from '../../lambdas/core/okta/okta-client';
import { LeaseLostError, type EventProcessor } from '../../lambdas/core/ports';
import {
  FakeOktaClient,
  InMemoryCursorStore,
  InMemoryQuarantine,
  InMemoryRecordSink,
  fakeProcessor,
  testEvent,
  testSource,
} from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';

function setup(events: unknown[] = [], pageSize = 3) {
  const clock = new VirtualClock();
  const okta = new FakeOktaClient(pageSize, events);
  const cursors = new InMemoryCursorStore(clock);
  const sink = new InMemoryRecordSink();
  const quarantine = new InMemoryQuarantine();
  const deps: PullDependencies = { okta, cursors, sink, quarantine, processor: fakeProcessor, clock };
  const options = (overrides: Partial<PullOptions> = {}): PullOptions => ({
    owner: 'run-1',
    deadline: clock.now() + 55_000,
    leaseMs: 120_000,
    ...overrides,
  });
  return { clock, okta, cursors, sink, quarantine, deps, options };
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => testEvent(from + i));
const uuids = (from: number, to: number) => range(from, to).map((event) => event.uuid);

/**
 * A client that counts each page in the run's page budget as the real one does (reserved before
 * the body is read, waiting while the budget is full, given back by `release`), at `bytes` a page.
 */
function countedInBudget(fetchPage: (request: PageRequest, options?: FetchPageOptions) => Promise<LogPage>, bytes: number) {
  return async (request: PageRequest, options: FetchPageOptions = {}): Promise<LogPage> => {
    const reservation = (options.pageBudget ?? new PageBudget(bytes)).reserve();
    try {
      await reservation.grow(bytes, options.signal);
      const page = await fetchPage(request, options);
      return { ...page, bytes, release: () => reservation.release() };
    } catch (error) {
      reservation.release();
      throw error;
    }
  };
}

/** Makes every page fetch of `okta` take `ms` on the virtual clock. */
function eachFetchTakes(
  okta: { fetchPage: (request: PageRequest, options?: FetchPageOptions) => Promise<LogPage> },
  clock: VirtualClock,
  ms: number,
) {
  const fetchPage = okta.fetchPage.bind(okta);
  okta.fetchPage = async (...args) => {
    clock.advance(ms);
    return fetchPage(...args);
  };
}

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
    expect(quarantine.items[0]).toEqual({
      sourceId: 'acme',
      event: events[1],
      eventJson: JSON.stringify(events[1]),
      errors: ['published: required timestamp'],
      receivedAt: clock.now(),
    });
    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 1, invalid: 3, newestPublished: testEvent(0).published });
    expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=4');
  });

  it('reports each quarantine write before making it, so a run that dies after the write has counted it', async () => {
    const events = [testEvent(0), { uuid: 'bad-1', published: 'redacted' }, testEvent(2), 'not an object'];
    const { deps, options } = setup(events, 10);
    const sink = new InMemoryRecordSink((record) => (record.uuid === 'uuid-000002' ? 'record larger than 1 MiB' : undefined));
    const reported: Array<{ count: number; alreadyWritten: number }> = [];
    // A quarantine whose write lands and then the run dies, as a Lambda killed right after PutObject.
    const dying = {
      items: [] as unknown[],
      async put(items: readonly unknown[]): Promise<void> {
        dying.items.push(...items);
        throw new Error('the run was killed');
      },
    };

    const summary = await pullSource(
      { ...deps, sink, quarantine: dying },
      testSource(),
      options({ onQuarantine: (count) => reported.push({ count, alreadyWritten: dying.items.length }) }),
    );

    // Counted before the write (nothing written yet): the count is out even though the run never heard back.
    expect(reported).toEqual([{ count: 2, alreadyWritten: 0 }]);
    expect(dying.items).toHaveLength(2);
    expect(summary.outcome).toBe('failed');
    expect(summary.invalid).toBe(0);

    const counts: number[] = [];
    await pullSource({ ...deps, sink }, testSource(), options({ onQuarantine: (count) => counts.push(count) }));
    // The invalid events, then the record the sink refused: every event sent to the quarantine is counted.
    expect(counts).toEqual([2, 1]);
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
    expect(cursors.cursorOf('acme')).toEqual({
      lastError: 'source acme: delivering records failed: stream throttled',
      updatedAt: expect.any(Number),
    });
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
    expect(cursors.cursorOf('acme')).toMatchObject({
      nextUrl: 'https://acme.okta.com/api/v1/logs?after=2',
      lastError: summary.error?.message,
    });
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
    // Each request takes 10 s; page 2 is requested (ahead) at 10 s, page 3 at 20 s, and page 3 is
    // in at 30 s, after the deadline: it is dropped, as a page requested then would not be.
    eachFetchTakes(okta, clock, 10_000);

    const summary = await pullSource(deps, testSource(), options({ deadline }));

    expect(summary).toMatchObject({ outcome: 'deadline', pages: 2, delivered: 6 });
    expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=6');
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

    const summary = await pullSource(
      deps,
      testSource(),
      options({
        signal: controller.signal,
        onPage: (progress) => {
          seen.push(progress.delivered);
          if (progress.pages === 2) controller.abort();
        },
      }),
    );

    expect(seen).toEqual([3, 6]);
    expect(summary).toMatchObject({ outcome: 'deadline', pages: 2 });
  });

  describe('fetching one page ahead while the previous page is delivered', () => {
    /** A trace of what happened, in order: fetches started (by the `after` they ask for), writes and saves. */
    function traced(events: unknown[], pageSize = 3) {
      const context = setup(events, pageSize);
      const trace: string[] = [];
      const after = (request: { nextUrl: string } | { since: string }) =>
        'since' in request ? 'since' : new URL(request.nextUrl).searchParams.get('after');
      const signals: Array<AbortSignal | undefined> = [];
      const okta = {
        sourceId: context.okta.sourceId,
        origin: context.okta.origin,
        fetchPage: async (...args: Parameters<FakeOktaClient['fetchPage']>) => {
          trace.push(`fetch ${after(args[0])}`);
          signals.push(args[1]?.signal);
          return context.okta.fetchPage(...args);
        },
      };
      const cursors = context.cursors;
      const save = cursors.save.bind(cursors);
      cursors.save = async (sourceId, owner, cursor) => {
        await save(sourceId, owner, cursor);
        trace.push(`save ${new URL(cursor.nextUrl ?? '').searchParams.get('after')}`);
      };
      return { ...context, deps: { ...context.deps, okta }, trace, signals };
    }

    /** A sink whose writes wait until the test lets them finish, to see what runs meanwhile. */
    function heldSink(trace: string[]) {
      const held: Array<() => void> = [];
      const sink = new InMemoryRecordSink();
      const write = sink.write.bind(sink);
      sink.write = async (records) => {
        trace.push(`write ${records.length}`);
        await new Promise<void>((resolve) => held.push(resolve));
        const result = await write(records);
        trace.push('written');
        return result;
      };
      return { sink, release: () => held.shift()?.(), pending: () => held.length };
    }

    const settle = () => new Promise((resolve) => setImmediate(resolve));

    it("requests page N+1 from page N's next link while page N is written, never two pages ahead, and saves each cursor in order after its own write", async () => {
      const { deps, trace } = traced(range(0, 7));
      const { sink, release, pending } = heldSink(trace);

      const pulling = pullSource({ ...deps, sink }, testSource(), {
        owner: 'run-1',
        deadline: deps.clock.now() + 55_000,
        leaseMs: 120_000,
      });
      await settle();
      // Page 1 is being written: page 2 has been requested from its next link, page 3 not yet.
      expect(pending()).toBe(1);
      expect(trace).toEqual(['fetch since', 'fetch 3', 'write 3']);
      for (let page = 0; page < 3; page += 1) {
        release();
        await settle();
      }
      const summary = await pulling;

      expect(summary).toMatchObject({ outcome: 'caught-up', pages: 3, delivered: 7 });
      expect(trace).toEqual([
        'fetch since',
        'fetch 3',
        'write 3',
        'written',
        'save 3',
        'fetch 6',
        'write 3',
        'written',
        'save 6',
        'write 1',
        'written',
        'save 7',
      ]);
    });

    it('asks for nothing after a short page: being caught up costs no extra request', async () => {
      const { deps, okta, trace } = traced(range(0, 7));

      await pullSource(deps, testSource(), { owner: 'run-1', deadline: deps.clock.now() + 55_000, leaseMs: 120_000 });

      expect(trace.filter((step) => step.startsWith('fetch'))).toEqual(['fetch since', 'fetch 3', 'fetch 6']);
      expect(okta.requests).toHaveLength(3);
    });

    it('on an abort while page N is written, saves page N (it is durable), drops the page fetched ahead undelivered and aborts its request', async () => {
      const { deps, cursors, trace, sink: plainSink, signals } = traced(range(0, 9));
      const { sink, release } = heldSink(trace);
      const controller = new AbortController();

      const pulling = pullSource({ ...deps, sink }, testSource(), {
        owner: 'run-1',
        deadline: deps.clock.now() + 55_000,
        leaseMs: 120_000,
        signal: controller.signal,
      });
      await settle();
      controller.abort(new Error('the run is about to reach the Lambda timeout'));
      release();
      const summary = await pulling;

      expect(summary).toMatchObject({ outcome: 'deadline', pages: 1, delivered: 3 });
      expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=3');
      expect(trace).toEqual(['fetch since', 'fetch 3', 'write 3', 'written', 'save 3']);
      expect(plainSink.records).toHaveLength(0);
      expect(signals.every((signal) => signal?.aborted === true)).toBe(true);
    });

    it('when the write of page N fails, saves nothing past the old cursor and aborts the request of page N+1', async () => {
      const { deps, cursors, trace, signals } = traced(range(0, 9));
      const sink = new InMemoryRecordSink();
      sink.failures.push(new Error('Kinesis unavailable'));

      const summary = await pullSource({ ...deps, sink }, testSource(), {
        owner: 'run-1',
        deadline: deps.clock.now() + 55_000,
        leaseMs: 120_000,
      });

      expect(summary).toMatchObject({ outcome: 'failed', pages: 0, delivered: 0 });
      expect(summary.error?.message).toContain('delivering records failed: Kinesis unavailable');
      expect(cursors.cursorOf('acme')?.nextUrl).toBeUndefined();
      expect(trace).toEqual(['fetch since', 'fetch 3']);
      expect(signals[1]?.aborted).toBe(true);
    });

    it("a page fetched ahead that fails is reported once page N is durable and saved: the cursor stays on page N's next link", async () => {
      const { deps, cursors, okta, trace } = traced(range(0, 9));
      const fetchPage = okta.fetchPage.bind(okta);
      let calls = 0;
      okta.fetchPage = async (...args) => {
        calls += 1;
        if (calls === 2) throw new OktaAuthError('acme', 'GET /api/v1/logs answered 401 E0000011 (Invalid token provided)');
        return fetchPage(...args);
      };

      const summary = await pullSource(deps, testSource(), { owner: 'run-1', deadline: deps.clock.now() + 55_000, leaseMs: 120_000 });

      expect(summary).toMatchObject({ outcome: 'failed', pages: 1, delivered: 3 });
      expect(summary.error?.kind).toBe('auth');
      // Page 1's cursor, then the error recorded on that same cursor.
      expect(trace.filter((step) => step.startsWith('save'))).toEqual(['save 3', 'save 3']);
      expect(cursors.cursorOf('acme')).toMatchObject({
        nextUrl: 'https://acme.okta.com/api/v1/logs?after=3',
        lastError: expect.stringContaining('401'),
      });
    });

    it('never starts a fetch ahead at or after the deadline', async () => {
      const { deps, okta, trace, clock } = traced(range(0, 12));
      eachFetchTakes(okta, clock, 30_000);

      const summary = await pullSource(deps, testSource(), { owner: 'run-1', deadline: clock.now() + 25_000, leaseMs: 120_000 });

      // Page 1 was requested before the deadline and is delivered; it arrived after it, so nothing is asked ahead.
      expect(summary).toMatchObject({ outcome: 'deadline', pages: 1, delivered: 3 });
      expect(trace.filter((step) => step.startsWith('fetch'))).toEqual(['fetch since']);
    });

    it('drops a page fetched ahead that the deadline overtook while page N was delivered, and aborts its request: the run stops where it would have stopped without fetching ahead', async () => {
      const { deps, cursors, okta, trace, clock, signals } = traced(range(0, 12));
      eachFetchTakes(okta, clock, 10_000);

      const summary = await pullSource(deps, testSource(), { owner: 'run-1', deadline: clock.now() + 25_000, leaseMs: 120_000 });

      // Page 3 was asked for at 20 s, ahead of page 2's delivery; page 2 was saved at 30 s, past the deadline.
      expect(summary).toMatchObject({ outcome: 'deadline', pages: 2, delivered: 6 });
      expect(trace).toEqual(['fetch since', 'fetch 3', 'save 3', 'fetch 6', 'save 6']);
      expect(signals[2]?.aborted).toBe(true);
      expect(cursors.cursorOf('acme')?.nextUrl).toBe('https://acme.okta.com/api/v1/logs?after=6');
    });

    it('when the save of page N finds the lease lost, drops the page fetched ahead: nothing of it is written, its request is aborted and its bytes are given back', async () => {
      const { deps, cursors, okta, trace, signals, sink } = traced(range(0, 9));
      const budget = new PageBudget(64 * 1024);
      okta.fetchPage = countedInBudget(okta.fetchPage.bind(okta), 1_000);
      cursors.saveFailures.set(1, new LeaseLostError('acme', 'run-1'));

      const summary = await pullSource(deps, testSource(), {
        owner: 'run-1',
        deadline: deps.clock.now() + 55_000,
        leaseMs: 120_000,
        pageBudget: budget,
      });
      await settle();

      expect(summary).toMatchObject({ outcome: 'failed', pages: 0, delivered: 3 });
      expect(summary.error?.kind).toBe('lease-lost');
      expect(trace).toEqual(['fetch since', 'fetch 3']);
      expect(sink.uuids()).toEqual(uuids(0, 3));
      expect(signals[1]?.aborted).toBe(true);
      expect(budget.inFlight).toBe(0);
    });

    it("counts the page fetched ahead in the run's page budget while page N is delivered, and gives its bytes back when an abort drops it", async () => {
      const { deps, okta, trace } = traced(range(0, 9));
      const { sink, release } = heldSink(trace);
      const budget = new PageBudget(64 * 1024);
      okta.fetchPage = countedInBudget(okta.fetchPage.bind(okta), 1_000);
      const controller = new AbortController();

      const pulling = pullSource({ ...deps, sink }, testSource(), {
        owner: 'run-1',
        deadline: deps.clock.now() + 55_000,
        leaseMs: 120_000,
        pageBudget: budget,
        signal: controller.signal,
      });
      await settle();
      // Page 1 being written and page 2 read ahead: both held, never a third.
      expect(budget.inFlight).toBe(2_000);
      controller.abort(new Error('the run is about to reach the Lambda timeout'));
      release();
      const summary = await pulling;
      await settle();

      expect(summary).toMatchObject({ outcome: 'deadline', pages: 1, delivered: 3 });
      expect(budget.peakInFlight).toBe(2_000);
      expect(budget.inFlight).toBe(0);
    });

    it('with room in the budget for one page only, the page fetched ahead waits until page N is delivered: memory stays at one page', async () => {
      const { deps, okta, trace } = traced(range(0, 7));
      const { sink, release, pending } = heldSink(trace);
      const budget = new PageBudget(1_000);
      okta.fetchPage = countedInBudget(okta.fetchPage.bind(okta), 1_000);

      const pulling = pullSource({ ...deps, sink }, testSource(), {
        owner: 'run-1',
        deadline: deps.clock.now() + 55_000,
        leaseMs: 120_000,
        pageBudget: budget,
      });
      await settle();
      expect(budget.inFlight).toBe(1_000);
      while (pending() > 0) {
        release();
        await settle();
      }
      const summary = await pulling;

      expect(summary).toMatchObject({ outcome: 'caught-up', pages: 3, delivered: 7 });
      expect(budget.peakInFlight).toBe(1_000);
      expect(budget.inFlight).toBe(0);
    });

    it('does not fetch a looping next link ahead: the page that links back is delivered and the source fails', async () => {
      const { deps, okta, trace } = traced(range(0, 9));
      const fetchPage = okta.fetchPage.bind(okta);
      let firstUrl = '';
      okta.fetchPage = async (...args) => {
        const page = await fetchPage(...args);
        if (firstUrl === '') firstUrl = page.url;
        return page.url.endsWith('after=3') ? { ...page, nextUrl: firstUrl } : page;
      };

      const summary = await pullSource(deps, testSource(), { owner: 'run-1', deadline: deps.clock.now() + 55_000, leaseMs: 120_000 });

      expect(summary).toMatchObject({ outcome: 'failed', pages: 1, delivered: 6 });
      expect(summary.error?.kind).toBe('paging-loop');
      expect(trace.filter((step) => step.startsWith('fetch'))).toEqual(['fetch since', 'fetch 3']);
    });
  });
});
