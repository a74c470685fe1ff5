import { PageBudgetPreemptedError, type PageBudget, type PageReservation } from '../../lambdas/core/memory/page-budget';
import type { EmfDocument } from '../../lambdas/core/metrics/emf';
import { computeSourceMetrics } from '../../lambdas/core/metrics/source-metrics';
import type { PullOptions, PullSummary } from '../../lambdas/core/pull/pull-source';
import type { SourceActivity, SourceConfig, SourceProblem, SourceRefresh, SourceRegistry } from '../../lambdas/core/ports';
import { runPuller, type PullerDependencies } from '../../lambdas/core/puller/run-puller';
import { namedSource, TEST_API_TOKEN } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';

const source = namedSource;

function summary(sourceId: string, fields: Partial<PullSummary> = {}): PullSummary {
  return { sourceId, outcome: 'caught-up', pages: 0, delivered: 0, invalid: 0, rateLimitWaits: 0, rateLimitWaitMs: 0, ...fields };
}

class FakeRegistry implements SourceRegistry {
  readonly refreshed: string[] = [];
  /** What `refresh` answers per source id; a source not named here is answered as listed. */
  readonly fresh = new Map<string, SourceRefresh>();
  constructor(
    public sources: SourceConfig[],
    public problems: SourceProblem[] = [],
  ) {}
  async list(): Promise<{ sources: SourceConfig[]; problems: SourceProblem[] }> {
    return { sources: this.sources, problems: this.problems };
  }
  async refresh(sourceId: string): Promise<SourceRefresh> {
    this.refreshed.push(sourceId);
    const listed = this.sources.find((candidate) => candidate.id === sourceId);
    return this.fresh.get(sourceId) ?? (listed === undefined ? { status: 'offboarded' } : { status: 'current', source: listed });
  }
}

interface Harness {
  deps: PullerDependencies;
  clock: VirtualClock;
  registry: FakeRegistry;
  documents: EmfDocument[];
  logs: Array<{ level: string; message: string; attributes: Record<string, unknown> }>;
  pulls: Array<{ sourceId: string; options: PullOptions }>;
}

function harness(options: {
  sources: SourceConfig[];
  problems?: SourceProblem[];
  activity?: Record<string, SourceActivity>;
  pull?: (source: SourceConfig, options: PullOptions, clock: VirtualClock) => Promise<PullSummary>;
}): Harness {
  const clock = new VirtualClock();
  const registry = new FakeRegistry(options.sources, options.problems);
  const documents: EmfDocument[] = [];
  const logs: Harness['logs'] = [];
  const pulls: Harness['pulls'] = [];
  const log =
    (level: string) =>
    (message: string, attributes: Record<string, unknown> = {}) =>
      logs.push({ level, message, attributes });
  return {
    clock,
    registry,
    documents,
    logs,
    pulls,
    deps: {
      registry,
      activity: {
        activity: async (ids) => new Map(ids.flatMap((id) => (options.activity?.[id] ? [[id, options.activity[id]] as const] : []))),
      },
      pull: async (config, pullOptions) => {
        pulls.push({ sourceId: config.id, options: pullOptions });
        return options.pull ? options.pull(config, pullOptions, clock) : summary(config.id);
      },
      clock,
      logger: { info: log('info'), warn: log('warn'), error: log('error') },
      emitMetrics: (document) => documents.push(document),
    },
  };
}

function metricsOf(documents: EmfDocument[], sourceId: string): Record<string, unknown> | undefined {
  return documents.find((document) => document.SourceId === sourceId);
}

describe('runPuller', () => {
  it('writes one log line per enabled source with every value, of which only the alarmed metrics are per-source metrics ([SourceId]), and the run totals without dimensions', async () => {
    const { deps, documents } = harness({
      sources: [source('acme'), source('idle'), source('off', { enabled: false })],
      pull: async (config) =>
        config.id === 'acme'
          ? summary('acme', {
              pages: 2,
              delivered: 1500,
              invalid: 3,
              rateLimitWaits: 1,
              newestPublished: '2025-12-31T23:59:00.000Z',
              lastEventAt: Date.parse('2026-01-01T00:00:00.000Z'),
            })
          : summary(config.id),
    });

    await runPuller(deps, { invocationId: 'run-1' });

    expect(documents).toHaveLength(3);
    const acme = metricsOf(documents, 'acme');
    // Literal on purpose: these documents are the interface users' alarms, dashboards and Logs
    // Insights queries read, whatever metric-names.ts says.
    expect(acme).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-01-01T00:00:00.000Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'OktaLogPipeline',
            Dimensions: [['SourceId']],
            Metrics: [{ Name: 'DropOffBreached', Unit: 'None' }],
          },
        ],
      },
      SourceId: 'acme',
      Outcome: 'caught-up',
      EventsDelivered: 1500,
      PagesFetched: 2,
      RateLimited: 1,
      PullErrors: 0,
      AuthFailures: 0,
      PagingLoops: 0,
      LagSeconds: 60,
      MinutesSinceLastEvent: 0,
      DropOffBreached: 0,
    });
    expect(metricsOf(documents, 'idle')).toMatchObject({ EventsDelivered: 0, PagesFetched: 0, DropOffBreached: 0 });
    expect(metricsOf(documents, 'off')).toBeUndefined();
    expect(documents.at(-1)).toEqual({
      _aws: {
        Timestamp: Date.parse('2026-01-01T00:00:00.000Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'OktaLogPipeline',
            Dimensions: [[]],
            Metrics: [
              { Name: 'SourceConfigErrors', Unit: 'Count' },
              { Name: 'SourcesPulled', Unit: 'Count' },
              { Name: 'EventsInvalid', Unit: 'Count' },
              { Name: 'EventsDelivered', Unit: 'Count' },
              { Name: 'PagesFetched', Unit: 'Count' },
              { Name: 'RateLimited', Unit: 'Count' },
              { Name: 'PullErrors', Unit: 'Count' },
              { Name: 'AuthFailures', Unit: 'Count' },
              { Name: 'PagingLoops', Unit: 'Count' },
              { Name: 'LagSeconds', Unit: 'Seconds' },
            ],
          },
        ],
      },
      SourceConfigErrors: 0,
      SourcesPulled: 2,
      EventsInvalid: 3,
      EventsDelivered: 1500,
      PagesFetched: 2,
      RateLimited: 1,
      PullErrors: 0,
      AuthFailures: 0,
      PagingLoops: 0,
      LagSeconds: 60,
    });
  });

  describe('what one source costs in CloudWatch metrics per run: distinct (metric name, dimensions) pairs', () => {
    /** Every (name, dimension set with values) pair the run's EMF documents declare. */
    function metricPairs(documents: EmfDocument[]): string[] {
      return documents.flatMap((document) =>
        document._aws.CloudWatchMetrics.flatMap((directive) =>
          directive.Dimensions.flatMap((dimensionSet) =>
            directive.Metrics.map(
              (metric) => `${metric.Name}{${dimensionSet.map((name) => `${name}=${String(document[name])}`).join(',')}}`,
            ),
          ),
        ),
      );
    }
    async function pairsFor(
      pull: (config: SourceConfig) => PullSummary,
      sources = [source('acme')],
    ): Promise<{ perSource: string[]; deployment: string[] }> {
      const { deps, documents } = harness({
        sources,
        pull: async (config, options) => {
          // As pullSource does: the quarantined events are counted before they are written.
          const result = pull(config);
          if (result.invalid > 0) options.onQuarantine?.(result.invalid);
          return result;
        },
      });
      await runPuller(deps, { invocationId: 'run-1' });
      const pairs = [...new Set(metricPairs(documents))];
      return {
        perSource: pairs.filter((pair) => pair.includes('SourceId=')),
        deployment: pairs.filter((pair) => !pair.includes('SourceId=')),
      };
    }

    it('a healthy source that delivered events costs one: DropOffBreached, which the drop-off alarm reads every run', async () => {
      const { perSource } = await pairsFor((config) =>
        summary(config.id, { pages: 3, delivered: 2500, rateLimitWaits: 2, lastEventAt: Date.parse('2026-01-01T00:00:00.000Z') }),
      );
      expect(perSource).toEqual(['DropOffBreached{SourceId=acme}']);
    });

    it('a run with quarantined events or a refused credential adds exactly the metric its alarm reads', async () => {
      expect((await pairsFor((config) => summary(config.id, { pages: 1, delivered: 10, invalid: 2 }))).perSource.sort()).toEqual([
        'DropOffBreached{SourceId=acme}',
        'EventsInvalid{SourceId=acme}',
      ]);
      expect(
        (
          await pairsFor((config) =>
            summary(config.id, {
              outcome: 'failed',
              error: { kind: 'auth', message: 'source acme: Okta refused the API token (401 E0000011)' },
            }),
          )
        ).perSource,
      ).toEqual(['DropOffBreached{SourceId=acme}', 'AuthFailures{SourceId=acme}']);
    });

    // okta-client.ts turns a 403 from /api/v1/logs (E0000006: the admin role is gone) and
    // authenticator.ts a token endpoint's 403 or `invalid_scope` (okta.logs.read is no longer
    // granted) into kind `permission`; SourceAuthFailures promises to page for them as for a 401.
    it.each([
      ['a 403 from the System Log (admin role lost)', 'source acme: Okta refused to read the System Log (403 E0000006)'],
      [
        'a token endpoint that no longer grants okta.logs.read',
        'source acme: the token endpoint refused the scope okta.logs.read (invalid_scope)',
      ],
    ])('%s counts as a refused credential: AuthFailures, which SourceAuthFailures reads', async (_case, message) => {
      const { perSource } = await pairsFor((config) => summary(config.id, { outcome: 'failed', error: { kind: 'permission', message } }));
      expect(perSource).toEqual(['DropOffBreached{SourceId=acme}', 'AuthFailures{SourceId=acme}']);
    });

    it('a source whose paging loops adds PagingLoops, which SourcePagingLoop reads', async () => {
      const { perSource } = await pairsFor((config) =>
        summary(config.id, {
          outcome: 'failed',
          pages: 1,
          delivered: 3,
          error: { kind: 'paging-loop', message: 'source acme: paging is looping: the next link repeats a URL already fetched' },
        }),
      );
      expect(perSource).toEqual(['DropOffBreached{SourceId=acme}', 'PagingLoops{SourceId=acme}']);
    });

    it('every per-source metric is one a per-source alarm reads, and the deployment metrics do not grow with the number of sources', async () => {
      const everything = (config: SourceConfig) =>
        summary(config.id, {
          outcome: 'failed',
          pages: 1,
          delivered: 1,
          invalid: 1,
          rateLimitWaits: 1,
          error: { kind: 'auth', message: `source ${config.id}: refused (401)` },
        });
      const one = await pairsFor(everything);
      const three = await pairsFor(everything, [source('a'), source('b'), source('c')]);
      const alarmed = new Set(['DropOffBreached', 'AuthFailures', 'PagingLoops', 'EventsInvalid']);
      expect(one.perSource.filter((pair) => !alarmed.has(pair.slice(0, pair.indexOf('{'))))).toEqual([]);
      expect(one.perSource).toHaveLength(3);
      expect(three.perSource).toHaveLength(9);
      expect(three.deployment).toEqual(one.deployment);
      expect(one.deployment).toHaveLength(10);
    });
  });

  it('emits EventsInvalid the moment a pull reports a quarantine write, in a document of its own with the dimension set [SourceId]', async () => {
    let documentsDuringPull: EmfDocument[] = [];
    const { deps, documents } = harness({
      sources: [source('acme')],
      pull: async (config, options) => {
        options.onQuarantine?.(2);
        documentsDuringPull = [...documents];
        return summary(config.id, { invalid: 2 });
      },
    });

    await runPuller(deps, { invocationId: 'run-1' });

    // Already out while the pull was still running: a run killed from here on has counted them.
    expect(documentsDuringPull).toEqual([
      {
        _aws: {
          Timestamp: Date.parse('2026-01-01T00:00:00.000Z'),
          CloudWatchMetrics: [
            { Namespace: 'OktaLogPipeline', Dimensions: [['SourceId']], Metrics: [{ Name: 'EventsInvalid', Unit: 'Count' }] },
          ],
        },
        SourceId: 'acme',
        EventsInvalid: 2,
      },
    ]);
    // Counted once per source: the source's end-of-run document does not repeat it (the run's
    // dimensionless total is another series).
    expect(documents.filter((document) => 'EventsInvalid' in document && document.SourceId === 'acme')).toHaveLength(1);
  });

  it('measures drop-off against each source’s own interval, from its last event or, never having had one, from when it was first seen', async () => {
    const { deps, clock, documents } = harness({
      sources: [
        source('quick', { dropOffMinutes: 5 }),
        source('slow', { dropOffMinutes: 120 }),
        source('never', { dropOffMinutes: 30 }),
        source('new', { dropOffMinutes: 1 }),
      ],
      activity: {},
    });
    const now = clock.now();
    deps.activity.activity = async () =>
      new Map<string, SourceActivity>([
        ['quick', { lastEventAt: now - 6 * 60_000, newestPublished: new Date(now - 7 * 60_000).toISOString() }],
        ['slow', { lastEventAt: now - 6 * 60_000 }],
        ['never', { firstSeenAt: now - 31 * 60_000 }],
      ]);

    await runPuller(deps, { invocationId: 'run-1' });

    expect(metricsOf(documents, 'quick')).toMatchObject({ MinutesSinceLastEvent: 6, DropOffBreached: 1, LagSeconds: 420 });
    expect(metricsOf(documents, 'slow')).toMatchObject({ MinutesSinceLastEvent: 6, DropOffBreached: 0 });
    expect(metricsOf(documents, 'never')).toMatchObject({ MinutesSinceLastEvent: 31, DropOffBreached: 1, LagSeconds: 31 * 60 });
    expect(metricsOf(documents, 'new')).toMatchObject({ MinutesSinceLastEvent: 0, DropOffBreached: 0 });
  });

  it('isolates failures: a throwing pull and a 401 are reported while the others are pulled; the 401 re-reads the secret once', async () => {
    const { deps, documents, registry, logs } = harness({
      sources: [source('ok'), source('revoked'), source('buggy')],
      pull: async (config) => {
        if (config.id === 'buggy') throw new Error('unexpected');
        if (config.id === 'revoked')
          return summary('revoked', {
            outcome: 'failed',
            error: { kind: 'auth', message: 'source revoked: Okta refused the API token (401 E0000011)' },
          });
        return summary('ok', { delivered: 5, pages: 1 });
      },
    });

    const report = await runPuller(deps, { invocationId: 'run-1' });

    expect(report.sources.map(({ source: config, summary: result }) => [config.id, result.outcome, result.error?.kind])).toEqual(
      expect.arrayContaining([
        ['ok', 'caught-up', undefined],
        ['revoked', 'failed', 'auth'],
        ['buggy', 'failed', 'internal'],
      ]),
    );
    expect(registry.refreshed).toEqual(['revoked']);
    expect(metricsOf(documents, 'revoked')).toMatchObject({ PullErrors: 1, AuthFailures: 1 });
    expect(metricsOf(documents, 'buggy')).toMatchObject({ PullErrors: 1, AuthFailures: 0 });
    expect(metricsOf(documents, 'ok')).toMatchObject({ PullErrors: 0, EventsDelivered: 5 });
    expect(
      logs
        .filter((entry) => entry.level === 'error')
        .map((entry) => entry.attributes.sourceId)
        .sort(),
    ).toEqual(['buggy', 'revoked']);
    expect(JSON.stringify(logs)).not.toContain(TEST_API_TOKEN);
  });

  describe('a refused credential is checked against the secret as it is now, not as the listing had it', () => {
    const refused = (id: string): PullSummary =>
      summary(id, {
        outcome: 'failed',
        pages: 1,
        delivered: 10,
        error: { kind: 'auth', message: `source ${id}: Okta refused the API token (401 E0000011)` },
      });

    it('retries once at once with a rotated token, adds both attempts, and counts no auth failure', async () => {
      const rotated = source('acme', { credential: { kind: 'apiToken', token: 'rotated-token-not-real' } });
      const { deps, documents, registry, pulls, logs } = harness({
        sources: [source('acme')],
        pull: async (config) =>
          config.credential.kind === 'apiToken' && config.credential.token === TEST_API_TOKEN
            ? refused('acme')
            : summary('acme', { pages: 2, delivered: 30 }),
      });
      registry.fresh.set('acme', { status: 'current', source: rotated });

      const report = await runPuller(deps, { invocationId: 'run-1' });

      expect(pulls.map((pull) => pull.sourceId)).toEqual(['acme', 'acme']);
      expect(report.sources).toHaveLength(1);
      expect(report.sources[0]?.source).toBe(rotated);
      expect(report.sources[0]?.summary).toMatchObject({ outcome: 'caught-up', pages: 3, delivered: 40 });
      expect(metricsOf(documents, 'acme')).toMatchObject({ AuthFailures: 0, PullErrors: 0, EventsDelivered: 40 });
      expect(JSON.stringify(logs)).not.toContain('rotated-token-not-real');
    });

    it('retries at most once: a rotated token that is refused too is one auth failure', async () => {
      const { deps, documents, registry, pulls } = harness({ sources: [source('acme')], pull: async () => refused('acme') });
      registry.fresh.set('acme', {
        status: 'current',
        source: source('acme', { credential: { kind: 'apiToken', token: 'rotated-token-not-real' } }),
      });

      await runPuller(deps, { invocationId: 'run-1' });

      expect(pulls).toHaveLength(2);
      expect(registry.refreshed).toEqual(['acme']);
      expect(metricsOf(documents, 'acme')).toMatchObject({ AuthFailures: 1, PullErrors: 1, EventsDelivered: 20 });
    });

    it('does not retry when the secret still holds the refused credential, or cannot be read now', async () => {
      const { deps, documents, registry, pulls } = harness({
        sources: [source('same'), source('unreadable'), source('relabelled')],
        pull: async (config) => refused(config.id),
      });
      registry.fresh.set('unreadable', { status: 'unavailable' });
      registry.fresh.set('relabelled', { status: 'current', source: source('relabelled', { label: 'New label' }) });

      await runPuller(deps, { invocationId: 'run-1' });

      expect(pulls.map((pull) => pull.sourceId).sort()).toEqual(['relabelled', 'same', 'unreadable']);
      for (const id of ['same', 'unreadable', 'relabelled']) expect(metricsOf(documents, id)).toMatchObject({ AuthFailures: 1 });
    });

    it('drops a source offboarded or disabled since it was listed, without an auth failure or any metric', async () => {
      const { deps, documents, registry } = harness({
        sources: [source('gone'), source('paused'), source('ok')],
        pull: async (config) => (config.id === 'ok' ? summary('ok') : refused(config.id)),
      });
      registry.fresh.set('gone', { status: 'offboarded' });
      registry.fresh.set('paused', { status: 'current', source: source('paused', { enabled: false }) });

      const report = await runPuller(deps, { invocationId: 'run-1' });

      expect(report.sources.map((entry) => entry.source.id)).toEqual(['ok']);
      expect(report.disabled).toEqual(['paused']);
      expect(metricsOf(documents, 'gone')).toBeUndefined();
      expect(metricsOf(documents, 'paused')).toBeUndefined();
    });

    it('treats a 403 (scope or admin role lost) the same: one re-read, one retry with a rotated secret, a drop when offboarded', async () => {
      const forbidden = (id: string): PullSummary =>
        summary(id, {
          outcome: 'failed',
          error: { kind: 'permission', message: `source ${id}: Okta refused to read the System Log (403 E0000006)` },
        });
      const { deps, documents, registry, pulls } = harness({
        sources: [source('acme'), source('gone')],
        pull: async (config) =>
          config.credential.kind === 'apiToken' && config.credential.token === TEST_API_TOKEN ? forbidden(config.id) : summary(config.id),
      });
      registry.fresh.set('acme', {
        status: 'current',
        source: source('acme', { credential: { kind: 'apiToken', token: 'regranted-token' } }),
      });
      registry.fresh.set('gone', { status: 'offboarded' });

      await runPuller(deps, { invocationId: 'run-1' });

      expect(registry.refreshed.sort()).toEqual(['acme', 'gone']);
      expect(pulls.map((pull) => pull.sourceId).sort()).toEqual(['acme', 'acme', 'gone']);
      expect(metricsOf(documents, 'acme')).toMatchObject({ AuthFailures: 0, PullErrors: 0 });
      expect(metricsOf(documents, 'gone')).toBeUndefined();
    });

    it('counts the auth failure when the registry itself fails to re-read', async () => {
      const { deps, documents, logs } = harness({ sources: [source('acme')], pull: async () => refused('acme') });
      deps.registry.refresh = async () => {
        throw new Error('Secrets Manager is unreachable');
      };

      await runPuller(deps, { invocationId: 'run-1' });

      expect(metricsOf(documents, 'acme')).toMatchObject({ AuthFailures: 1 });
      expect(logs).toContainEqual(
        expect.objectContaining({ level: 'warn', message: 'cannot re-read the source after its credential was refused' }),
      );
    });
  });

  it('reports invalid secrets in a log line each and the SourceConfigErrors metric', async () => {
    const problems = [{ sourceId: 'broken', message: 'source broken: invalid secret: domain is missing' }];
    const { deps, documents, logs } = harness({ sources: [source('ok')], problems });

    await runPuller(deps, { invocationId: 'run-1' });

    expect(documents.at(-1)).toMatchObject({ SourceConfigErrors: 1, SourcesPulled: 1 });
    expect(logs).toContainEqual({
      level: 'error',
      message: 'source secret is invalid; the source is not pulled',
      attributes: { sourceId: 'broken', problem: problems[0]?.message },
    });
  });

  it('pulls at most `concurrency` sources at once, least recently updated first, each under the run’s lease and deadline', async () => {
    let running = 0;
    let peak = 0;
    const sources = Array.from({ length: 12 }, (_, index) => source(`s${String(index).padStart(2, '0')}`));
    const { deps, pulls, clock } = harness({
      sources,
      pull: async (config) => {
        running += 1;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setImmediate(resolve));
        running -= 1;
        return summary(config.id);
      },
    });
    deps.activity.activity = async () => new Map(sources.map((config, index) => [config.id, { updatedAt: 1000 - index }]));

    await runPuller(deps, { invocationId: 'run-1', budgetMs: 50_000, remainingMs: 90_000, limits: { concurrency: 3 } });

    expect(peak).toBe(3);
    expect(pulls.map((pull) => pull.sourceId)).toEqual(sources.map((config) => config.id).reverse());
    expect(pulls[0]?.options).toMatchObject({ owner: 'run-1', deadline: clock.now() + 50_000, leaseMs: 95_000 });
  });

  it('holds every source’s page bytes within one run-wide budget of pageBytesInFlight, and every source still finishes', async () => {
    const capacity = 1_000;
    // Pages as the Okta client reads them: reserved, grown chunk by chunk as the body arrives,
    // released once delivered; a preempted page gives its bytes back and is fetched again.
    const pageSizes: Record<string, number[]> = {
      a: [600, 600, 600],
      b: [600, 600, 600],
      c: [600, 600, 600],
      d: [600, 600, 600],
      big: [1_500],
    };
    const open = new Set<PageReservation>();
    const held = (): number => [...open].reduce((sum, reservation) => sum + reservation.bytes, 0);
    let peak = 0;
    let peakShared = 0;
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const readPage = async (budget: PageBudget, bytes: number): Promise<void> => {
      for (;;) {
        const reservation = budget.reserve();
        open.add(reservation);
        try {
          for (let read = 0; read < bytes; read += 100) {
            await reservation.grow(Math.min(100, bytes - read));
            peak = Math.max(peak, held());
            if ([...open].filter((other) => other.bytes > 0).length > 1) peakShared = Math.max(peakShared, held());
            await nextTurn();
          }
          await nextTurn(); // delivered while the others read
          return;
        } catch (error) {
          if (!(error instanceof PageBudgetPreemptedError)) throw error;
        } finally {
          reservation.release();
          open.delete(reservation);
        }
      }
    };
    const { deps } = harness({
      sources: Object.keys(pageSizes).map((id) => source(id)),
      pull: async (config, options) => {
        const budget = options.pageBudget;
        if (budget === undefined) throw new Error('the run gave the source no page budget');
        for (const bytes of pageSizes[config.id] ?? []) await readPage(budget, bytes);
        return summary(config.id, { pages: pageSizes[config.id]?.length ?? 0 });
      },
    });

    const report = await runPuller(deps, { invocationId: 'run-1', limits: { pageBytesInFlight: capacity } });

    // Unbudgeted, the five sources would hold 4 × 600 + 1,500 bytes at once.
    expect(peakShared).toBeLessThanOrEqual(capacity);
    // The documented allowance (page-budget.ts): a page alone may grow past the capacity.
    expect(peak).toBeLessThanOrEqual(1_500);
    expect(peak).toBeGreaterThan(capacity);
    expect(report.sources.map(({ source: config, summary: result }) => [config.id, result.outcome, result.pages]).sort()).toEqual([
      ['a', 'caught-up', 3],
      ['b', 'caught-up', 3],
      ['big', 'caught-up', 1],
      ['c', 'caught-up', 3],
      ['d', 'caught-up', 3],
    ]);
  });

  it('stops fetching well before the Lambda timeout even when the budget is longer', async () => {
    const { deps, pulls, clock } = harness({ sources: [source('a')] });
    const start = clock.now();

    const report = await runPuller(deps, { invocationId: 'run-1', budgetMs: 55_000, remainingMs: 60_000 });

    expect(report.deadline).toBe(start + 30_000);
    expect(pulls[0]?.options.deadline).toBe(start + 30_000);
  });

  it('does not start a source whose turn comes after the deadline, and reports it for the next run', async () => {
    const { deps, pulls, documents } = harness({
      sources: [source('a'), source('b'), source('c')],
      pull: async (config, _options, clock) => {
        clock.advance(30_000);
        return summary(config.id, { outcome: 'deadline', pages: 1 });
      },
    });

    const report = await runPuller(deps, { invocationId: 'run-1', budgetMs: 55_000, limits: { concurrency: 1 } });

    expect(pulls.map((pull) => pull.sourceId)).toEqual(['a', 'b']);
    expect(report.sources.map(({ summary: result }) => [result.sourceId, result.outcome, result.pages])).toEqual([
      ['a', 'deadline', 1],
      ['b', 'deadline', 1],
      ['c', 'deadline', 0],
    ]);
    expect(metricsOf(documents, 'c')).toMatchObject({ PagesFetched: 0, PullErrors: 0 });
  });

  it('does not count a source whose turn came after the deadline as pulled', async () => {
    const { deps, documents } = harness({
      sources: [source('a'), source('b'), source('c')],
      pull: async (config, _options, clock) => {
        clock.advance(30_000);
        return summary(config.id, { outcome: 'deadline', pages: 1 });
      },
    });

    const report = await runPuller(deps, { invocationId: 'run-1', budgetMs: 55_000, limits: { concurrency: 1 } });

    expect(report.sources.map(({ source: config, started }) => [config.id, started])).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
    ]);
    expect(documents.find((document) => 'SourcesPulled' in document)).toMatchObject({ SourcesPulled: 2 });
  });

  it('fails the run only when the sources cannot be listed', async () => {
    const { deps } = harness({ sources: [] });
    deps.registry.list = async () => {
      throw new Error('cannot list source secrets');
    };

    await expect(runPuller(deps, { invocationId: 'run-1' })).rejects.toThrow('cannot list source secrets');
  });

  it('still pulls when the activity cannot be read, and says so', async () => {
    const { deps, pulls, logs } = harness({ sources: [source('b'), source('a')] });
    deps.activity.activity = async () => {
      throw new Error('table unavailable');
    };

    await runPuller(deps, { invocationId: 'run-1' });

    expect(pulls.map((pull) => pull.sourceId)).toEqual(['a', 'b']);
    expect(logs).toContainEqual({
      level: 'warn',
      message: 'cannot read source activity; pulling in id order',
      attributes: { error: 'table unavailable' },
    });
  });
});

describe('computeSourceMetrics', () => {
  const counts = { pages: 0, delivered: 0, invalid: 0, rateLimitWaits: 0, failed: false, authFailed: false };

  it('breaches exactly at the interval', () => {
    const now = 10 * 60_000;
    expect(computeSourceMetrics(counts, { lastEventAt: now - 10 * 60_000 + 1 }, 10, now).DropOffBreached).toBe(0);
    expect(computeSourceMetrics(counts, { lastEventAt: now - 10 * 60_000 }, 10, now).DropOffBreached).toBe(1);
  });

  it('never reports negative silence or lag when clocks disagree', () => {
    const metrics = computeSourceMetrics(counts, { lastEventAt: 2_000, newestPublished: '1970-01-01T00:00:03.000Z' }, 1, 1_000);
    expect([metrics.MinutesSinceLastEvent, metrics.LagSeconds]).toEqual([0, 0]);
  });
});
