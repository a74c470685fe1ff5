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
import { scanJsonArray } from '../../lambdas/core/okta/json-array-scanner';
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

/** An org in front of `events` that honours `limit` and `after`, like Okta's polling paging. */
async function pagingOrg(events: readonly string[]): Promise<ScriptedServer> {
  const server = await org((request) => {
    const from = afterOf(request.url);
    const limit = limitOf(request.url) || 1000;
    const page = events.slice(from, from + limit);
    return {
      headers: { link: `<${server.origin}/api/v1/logs?after=${from + page.length}&limit=${limit}>; rel="next"` },
      body: `[${page.join(',')}]`,
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
  it('asks again with half the limit, down to 1, and pages on past an event that alone is over the bound', async () => {
    const clock = new VirtualClock();
    const huge = JSON.stringify(event('huge', { padding: 'x'.repeat(6_000) }));
    const events = [...Array.from({ length: 6 }, (_, index) => JSON.stringify(event(`e${index}`))), huge, JSON.stringify(event('after'))];
    const server = await pagingOrg(events);
    const { deps, source } = pullDeps(server.origin, clock, { maxResponseBytes: 5_000, pageSize: 8 });

    const summary = await pullSource(deps, source, options(clock));

    // No stall: every ordinary event is delivered, the one too large for any page is quarantined cut.
    expect(summary.outcome).toBe('caught-up');
    expect(deps.sink.uuids()).toEqual(['e0', 'e1', 'e2', 'e3', 'e4', 'e5', 'after']);
    expect(deps.quarantine.items).toHaveLength(1);
    expect(deps.quarantine.items[0]?.errors[0]).toMatch(
      /^the event alone is larger than the page bound \(maxResponseBytes\), so only its first \d+ bytes were read/,
    );
    expect(summary.pageSplits).toBeGreaterThan(0);
    expect(Math.min(...server.requests.map((request) => limitOf(request.url)))).toBe(1);
  });

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
});
