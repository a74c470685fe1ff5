/**
 * Hostile orgs, part 1: memory and poison. Loopback fake orgs serve what a broken or hostile org
 * (or a box in front of it) can: heap bombs, events nested thousands deep, pages over the byte
 * bound, pages whose next link loops, more events than asked for. The real Okta client, the real
 * Okta.SystemLog processor and the real pull core run against them; each test shows that the bad
 * part costs only itself.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PageBudget, PageBudgetPreemptedError } from '../../lambdas/core/memory/page-budget';
import { createOktaClient, type OktaClientLimits } from '../../lambdas/core/okta';
import { exchange } from '../../lambdas/core/okta/http-exchange';
import { scanJsonArray } from '../../lambdas/core/okta/json-array-scanner';
import { jsonStringOfBytes } from '../../lambdas/core/pull/examine-event';
import { pullSource, type PullOptions } from '../../lambdas/core/pull/pull-source';
import type { EmfDocument } from '../../lambdas/core/metrics/emf';
import { runPuller } from '../../lambdas/core/puller/run-puller';
import { eventProcessorFor } from '../../lambdas/core/schema';
import { InMemoryCursorStore, InMemoryQuarantine, InMemoryRecordSink, testSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';
import { startScriptedServer, type ReceivedRequest, type Script, type ScriptedServer } from '../okta/scripted-server';

/** Real Okta events (see test/fixtures/README.md for their provenance). */
const FIXTURES = readFileSync(resolve(__dirname, '../fixtures/okta-events.ndjson'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as Record<string, unknown>);
const TEMPLATE = FIXTURES[0] as Record<string, unknown>;
const TOKEN = '00HostileOrgTestTokenNeverShown0123456789';

function event(uuid: string, debugData: unknown = { note: 'ordinary' }): Record<string, unknown> {
  return { ...TEMPLATE, uuid, debugContext: { debugData } };
}

/** `{"a":{"a":...}}` nested `depth` levels, as text: parsing is what must never happen. */
function nested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function org(answer: (request: ReceivedRequest, index: number) => Script): Promise<ScriptedServer> {
  const server = await startScriptedServer(answer);
  servers.push(server);
  return server;
}

function limitOf(url: string): number {
  return Number(new URL(url, 'http://org').searchParams.get('limit'));
}

function afterOf(url: string): number {
  return Number(new URL(url, 'http://org').searchParams.get('after') ?? '0');
}

/**
 * An org in front of `events` that honours `limit` and `after`, like Okta's polling paging; with
 * `contentLength`, each answer declares its length up front (otherwise it is sent chunked).
 */
async function pagingOrg(events: readonly string[], { contentLength = false } = {}): Promise<ScriptedServer> {
  const server = await org((request) => {
    const from = afterOf(request.url);
    const limit = limitOf(request.url) || 1000;
    const page = events.slice(from, from + limit);
    const body = `[${page.join(',')}]`;
    return {
      headers: {
        link: `<${server.origin}/api/v1/logs?after=${from + page.length}&limit=${limit}>; rel="next"`,
        ...(contentLength ? { 'content-length': String(Buffer.byteLength(body)) } : {}),
      },
      body,
    };
  });
  return server;
}

function pullDeps(origin: string, clock: VirtualClock, limits: Partial<OktaClientLimits> = {}) {
  const source = testSource({ domain: origin, credential: { kind: 'apiToken', token: TOKEN } });
  return {
    source,
    deps: {
      okta: createOktaClient(source, { clock, allowLoopback: true, limits, random: () => 0.5 }),
      cursors: new InMemoryCursorStore(clock),
      sink: new InMemoryRecordSink(),
      quarantine: new InMemoryQuarantine(),
      processor: eventProcessorFor('Okta.SystemLog'),
      clock,
    },
  };
}

const options = (clock: VirtualClock, extra: Partial<PullOptions> = {}): PullOptions => ({
  owner: 'run-1',
  deadline: clock.now() + 55_000,
  leaseMs: 90_000,
  ...extra,
});

describe('hostile org: heap bombs and deep events', () => {
  it('quarantines a heap bomb and an event nested 5,000 deep as raw text, and delivers the rest of the page', async () => {
    const clock = new VirtualClock();
    // 2 MiB of `{},`: small on the wire, about twenty times that once parsed.
    const bomb = `{"uuid":"bomb","debugContext":{"debugData":{"x":[${'{},'.repeat(700_000)}{}]}}}`;
    const deep = JSON.stringify({ ...event('deep'), debugContext: { debugData: { x: 0 } } }).replace('{"x":0}', nested(5_000));
    const server = await pagingOrg([JSON.stringify(event('first')), bomb, deep, JSON.stringify(event('last'))]);
    const { deps, source } = pullDeps(server.origin, clock);

    const summary = await pullSource(deps, source, options(clock));

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 2, invalid: 2 });
    expect(deps.sink.uuids()).toEqual(['first', 'last']);
    const [bombItem, deepItem] = deps.quarantine.items;
    expect(bombItem?.event).toBe(bomb);
    expect(bombItem?.errors).toEqual([
      `the event is ${bomb.length} bytes, over the bound of 1048576 bytes per event; kept as its raw text, not parsed`,
    ]);
    expect(deepItem?.event).toBe(deep);
    expect(deepItem?.errors).toEqual(['the event nests 5002 levels deep, over the bound of 64; kept as its raw text, not parsed']);
    expect(deps.cursors.cursorOf('acme')?.nextUrl).toBe(`${server.origin}/api/v1/logs?after=4&limit=1000`);
  });

  it('quarantines an element that is not JSON and a record that cannot be serialised alone, never the page', async () => {
    const clock = new VirtualClock();
    const server = await pagingOrg([JSON.stringify(event('a')), '{"uuid": tru}', JSON.stringify(event('b'))]);
    const { deps, source } = pullDeps(server.origin, clock);
    const real = deps.processor;
    let calls = 0;
    const processor = {
      logType: real.logType,
      process: (value: unknown, context: Parameters<typeof real.process>[1]) => {
        calls += 1;
        if (calls === 2) {
          // A record JSON.stringify cannot write (a BigInt): the serialisation step must catch it.
          const result = real.process(value, context);
          return result.ok ? { ok: true as const, record: { ...result.record, big: BigInt(1) } } : result;
        }
        return real.process(value, context);
      },
    };

    const summary = await pullSource({ ...deps, processor }, source, options(clock));

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 1, invalid: 2 });
    expect(deps.quarantine.items.map((item) => item.errors[0])).toEqual([
      'the event is not valid JSON; kept as its raw text, not parsed',
      expect.stringMatching(/^the record cannot be serialised: /),
    ]);
  });

  it('never delivers a value that JSON.parse dropped: an event with a duplicate key is re-serialised, the others go as sent plus p_*', async () => {
    const clock = new VirtualClock();
    const plain = JSON.stringify(event('plain')).replace('{', '{ ');
    // `JSON.parse` keeps the last `eventType`; a reader keeping the first would see a sign-in.
    const twice = JSON.stringify(event('twice')).replace('{', '{"eventType":"user.session.start",');
    const server = await pagingOrg([plain, twice]);
    const { deps, source } = pullDeps(server.origin, clock);
    const written: string[] = [];
    const sink = {
      write: async (records: ReadonlyArray<{ json: string }>) => {
        written.push(...records.map((record) => record.json));
        return { rejected: [] };
      },
    };

    const summary = await pullSource({ ...deps, sink }, source, options(clock));

    expect(summary).toMatchObject({ outcome: 'caught-up', delivered: 2, invalid: 0 });
    const [plainRecord, twiceRecord] = written as [string, string];
    expect(plainRecord.startsWith(plain.slice(0, -1))).toBe(true);
    expect(twiceRecord).not.toContain('user.session.start');
    expect((JSON.parse(twiceRecord) as { eventType: string }).eventType).toBe(TEMPLATE.eventType);
  });

  it('keeps an unparsed event as the same JSON string bytes as JSON.stringify of its text, however its bytes are cut into chunks', () => {
    // Quotes, backslashes, control characters, a byte order mark, 2-, 3- and 4-byte characters,
    // and invalid UTF-8 (a lone continuation byte, a cut sequence, an overlong form).
    const text = Buffer.concat([
      Buffer.from('\ufeff{"a":"\\ " \n \u0001 \u007f é € 😀"}', 'utf8'),
      Buffer.from([0x80, 0xe2, 0x82, 0x20, 0xc0, 0xaf, 0xf0, 0x9f, 0x98]),
    ]);
    const expected = Buffer.from(JSON.stringify(text.toString('utf8')), 'utf8');
    for (let size = 1; size <= text.length; size += 1) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < text.length; at += size) chunks.push(text.subarray(at, at + size));
      expect(Buffer.from(jsonStringOfBytes(chunks)).equals(expected)).toBe(true);
    }
    expect(Buffer.from(jsonStringOfBytes([])).toString('utf8')).toBe('""');
  });

  it('splits the page body into events without parsing it, and refuses more events than the limit asked for', () => {
    const body = Buffer.from(`[ {"a":"x,]}"} , [1,[2]] ,"s\\"]",3]`);

    const scanned = scanJsonArray([body.subarray(0, 7), body.subarray(7)], 10);
    const tooMany = scanJsonArray([Buffer.from('[1,2,3]')], 2);

    expect('events' in scanned && scanned.events.map((raw) => [raw.text(), raw.depth])).toEqual([
      ['{"a":"x,]}"}', 1],
      ['[1,[2]]', 2],
      ['"s\\"]"', 0],
      ['3', 0],
    ]);
    expect(tooMany).toEqual({ error: 'the page holds more than 2 events, more than its limit' });
  });
});

describe('hostile org: pages over the byte bound', () => {
  it.each([
    ['sent chunked', false],
    ['declaring its Content-Length', true],
  ])(
    'asks again with half the limit, down to 1, and pages on past an event that alone is over the bound (%s), quarantining its head',
    async (_how, contentLength) => {
      const clock = new VirtualClock();
      const huge = JSON.stringify(event('huge-event-uuid', { padding: 'x'.repeat(6_000) }));
      const events = [...Array.from({ length: 6 }, (_, index) => JSON.stringify(event(`e${index}`))), huge, JSON.stringify(event('after'))];
      const server = await pagingOrg(events, { contentLength });
      const { deps, source } = pullDeps(server.origin, clock, { maxResponseBytes: 5_000, pageSize: 8 });

      const summary = await pullSource(deps, source, options(clock));

      // No stall: every ordinary event is delivered, the one too large for any page is quarantined cut.
      expect(summary.outcome).toBe('caught-up');
      expect(deps.sink.uuids()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'after']);
      expect(deps.quarantine.items).toHaveLength(1);
      const [item] = deps.quarantine.items;
      expect(item?.errors[0]).toMatch(
        /^the event alone is larger than the page bound \(maxResponseBytes\), so only its first [1-9]\d* bytes were read/,
      );
      // Not empty: the head of the page, the event's uuid in it, is what is kept.
      expect(typeof item?.event).toBe('string');
      expect(String(item?.event)).toMatch(/^\[\{/);
      expect(String(item?.event)).toContain('"uuid":"huge-event-uuid"');
      expect(summary.pageSplits).toBeGreaterThan(0);
      expect(Math.min(...server.requests.map((request) => limitOf(request.url)))).toBe(1);
    },
  );

  it('counts every page body of a run against one budget, which a page read ahead would share', async () => {
    const clock = new VirtualClock();
    const page = Array.from({ length: 20 }, (_, index) => JSON.stringify(event(`e${index}`, { padding: 'p'.repeat(2_000) })));
    const servers = await Promise.all([pagingOrg(page), pagingOrg(page), pagingOrg(page), pagingOrg(page)]);
    const pageBytes = page.join(',').length + 2;
    // Room for two pages: four sources at once must take turns, and all of them finish.
    const budget = new PageBudget(2 * pageBytes);

    const summaries = await Promise.all(
      servers.map((server, index) => {
        const { deps, source } = pullDeps(server.origin, clock);
        return pullSource(deps, { ...source, id: `org-${index}` }, options(clock, { pageBudget: budget }));
      }),
    );

    expect(summaries.map((summary) => [summary.outcome, summary.delivered])).toEqual(Array.from({ length: 4 }, () => ['caught-up', 20]));
    // Every body was counted (at least one whole page at a peak), and never more than the budget.
    expect(budget.peakInFlight).toBeGreaterThanOrEqual(pageBytes);
    expect(budget.peakInFlight).toBeLessThanOrEqual(2 * pageBytes);
    expect(budget.inFlight).toBe(0);
  });

  it('lets a page alone exceed the budget, and preempts the youngest reservation when every one waits', async () => {
    const budget = new PageBudget(100);
    const old = budget.reserve();
    const young = budget.reserve();
    await old.grow(60);
    await young.grow(30);

    const oldGrows = old.grow(50);
    const youngGrows = young.grow(50);

    await expect(youngGrows).rejects.toBeInstanceOf(PageBudgetPreemptedError);
    await expect(oldGrows).resolves.toBeUndefined();
    expect(budget.inFlight).toBe(110);
    old.release();
    const alone = budget.reserve();
    await alone.grow(500);
    expect(budget.inFlight).toBe(500);
  });

  it('stops reading a page that gives way (preempted or aborted): the rest of its body is cancelled, not left holding the connection', async () => {
    let cancelled = false;
    const body = new ReadableStream<Uint8Array>({
      pull: (controller) => controller.enqueue(new Uint8Array(40)),
      cancel: () => {
        cancelled = true;
      },
    });
    const budget = new PageBudget(100);
    const older = budget.reserve();
    await older.grow(90);
    const stop = new AbortController();

    const reading = exchange(
      async () => new Response(body, { status: 200 }),
      { method: 'GET', url: 'https://acme.okta.com/api/v1/logs', headers: {}, pageBudget: budget },
      { requestTimeoutMs: 60_000, maxResponseBytes: 1_000 },
      stop.signal,
    );
    // The first 40 bytes wait for room the older page holds; the run then gives the page up.
    await new Promise((resolve) => setImmediate(resolve));
    stop.abort(new Error('the pull stopped'));

    await expect(reading).rejects.toThrow('the pull stopped');
    expect(cancelled).toBe(true);
    expect(budget.inFlight).toBe(90);
  });

  it('lets go of a page body when the page is released, so the collection the budget asks for can free it whoever still holds the page', async () => {
    const clock = new VirtualClock();
    const server = await pagingOrg([JSON.stringify(event('kept-until-release')), JSON.stringify(event('second'))]);
    const { deps } = pullDeps(server.origin, clock);
    const budget = new PageBudget(1_000_000);

    const page = await deps.okta.fetchPage({ since: new Date(clock.now()).toISOString() }, { pageBudget: budget });
    const [first] = page.events;
    expect(first?.text()).toContain('"uuid":"kept-until-release"');
    expect(budget.inFlight).toBe(page.bytes);

    page.release();

    expect(budget.inFlight).toBe(0);
    // The page object (and its events) may outlive the release; the body's bytes do not.
    expect(() => first?.text()).toThrow('the page was released');
    expect(() => first?.views()).toThrow('the page was released');
  });

  it('asks for a collection each time the capacity in page bytes has been released, not per page', async () => {
    let collections = 0;
    const budget = new PageBudget(100, () => (collections += 1));
    const pages = [40, 40, 40, 150, 10];
    const released: number[] = [];
    for (const bytes of pages) {
      const page = budget.reserve();
      await page.grow(bytes);
      page.release();
      page.release();
      released.push(collections);
    }
    // 40 + 40 + 40 reach 100 at the third page; 150 alone at the fourth; 10 is not enough again.
    expect(released).toEqual([0, 0, 1, 2, 2]);
  });
});

describe('hostile org: paging loops', () => {
  it('fails the source when a full page links back to a URL already fetched, delivers that page once, and counts it in PagingLoops', async () => {
    const clock = new VirtualClock();
    const page = `[${Array.from({ length: 3 }, (_, index) => JSON.stringify(event(`loop-${index}`))).join(',')}]`;
    const server = await org((request) => ({ headers: { link: `<${server.origin}${request.url}>; rel="next"` }, body: page }));
    const { deps, source } = pullDeps(server.origin, clock, { pageSize: 3 });
    await deps.cursors.acquire('acme', 'setup', 1);
    await deps.cursors.save('acme', 'setup', { nextUrl: `${server.origin}/api/v1/logs?after=x&limit=3` });
    clock.advance(10);

    // Through the whole run, so that what the SourcePagingLoop alarm reads is what the puller writes.
    const documents: EmfDocument[] = [];
    const report = await runPuller(
      {
        registry: { list: async () => ({ sources: [source], problems: [] }), refresh: async () => ({ status: 'current', source }) },
        activity: { activity: async () => new Map() },
        pull: (config, pullOptions) => pullSource(deps, config, pullOptions),
        clock,
        logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
        emitMetrics: (document) => documents.push(document),
      },
      { invocationId: 'run-1' },
    );

    const summary = report.sources[0]?.summary;
    expect(summary?.outcome).toBe('failed');
    expect(summary?.error?.kind).toBe('paging-loop');
    expect(server.requests).toHaveLength(1);
    expect(deps.sink.uuids()).toEqual(['loop-0', 'loop-1', 'loop-2']);
    expect(deps.cursors.cursorOf('acme')?.nextUrl).toBe(`${server.origin}/api/v1/logs?after=x&limit=3`);
    expect(deps.cursors.cursorOf('acme')?.lastError).toContain('paging is looping');
    const perSource = documents.find((document) => document.SourceId === 'acme');
    expect(perSource).toMatchObject({ PagingLoops: 1 });
    expect(perSource?._aws.CloudWatchMetrics.flatMap((directive) => directive.Metrics.map((metric) => metric.Name))).toContain(
      'PagingLoops',
    );
  });

  it('fails the source when the next link keeps the cursor but adds a changing parameter: a full page of events already served is a loop', async () => {
    const clock = new VirtualClock();
    const page = `[${Array.from({ length: 3 }, (_, index) => JSON.stringify(event(`nonce-${index}`))).join(',')}]`;
    // Every URL differs (`&n=1`, `&n=2`, ...), so no URL repeats; only the pages' content does.
    // After 50 pages the org runs dry, so that a pull blind to the loop ends (caught up) and fails the test fast.
    const server = await org((_request, index) =>
      index >= 50
        ? { body: '[]' }
        : { headers: { link: `<${server.origin}/api/v1/logs?after=x&limit=3&n=${index + 1}>; rel="next"` }, body: page },
    );
    const { deps, source } = pullDeps(server.origin, clock, { pageSize: 3 });

    const summary = await pullSource(deps, source, options(clock));

    expect(summary.outcome).toBe('failed');
    expect(summary.error?.kind).toBe('paging-loop');
    expect(summary.error?.message).toContain('a full page holds only events already served in this run');
    // The first page, its repeat, and at most the page fetched ahead meanwhile; not 200 pages.
    expect(server.requests.length).toBeLessThanOrEqual(3);
    expect(new Set(deps.sink.uuids())).toEqual(new Set(['nonce-0', 'nonce-1', 'nonce-2']));
    // The cursor stays on the first page's link: the looping page never moves it.
    expect(deps.cursors.cursorOf('acme')?.nextUrl).toBe(`${server.origin}/api/v1/logs?after=x&limit=3&n=1`);
    expect(deps.cursors.cursorOf('acme')?.lastError).toContain('paging is looping');
  });

  it('pages on through full pages that repeat some events of the run, as long as each brings one not served before', async () => {
    const clock = new VirtualClock();
    const uuids = ['a', 'b', 'c', 'd', 'e'];
    // Overlapping windows: a,b,c then b,c,d then c,d,e, then a short page.
    const server = await org((request) => {
      const from = afterOf(request.url);
      const window = uuids.slice(from, from + 3);
      return {
        headers: { link: `<${server.origin}/api/v1/logs?after=${from + 1}&limit=3>; rel="next"` },
        body: `[${window.map((uuid) => JSON.stringify(event(uuid))).join(',')}]`,
      };
    });
    const { deps, source } = pullDeps(server.origin, clock, { pageSize: 3 });

    const summary = await pullSource(deps, source, options(clock));

    expect(summary.outcome).toBe('caught-up');
    expect(new Set(deps.sink.uuids())).toEqual(new Set(uuids));
  });
});
