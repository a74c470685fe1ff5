import {
  computeSourceMetrics,
  deploymentMetrics,
  deploymentMetricsDocument,
  quarantineMetricsDocument,
  sourceMetricsDocument,
  type SourceMetrics,
} from '../metrics/source-metrics';
import type { EmfDocument } from '../metrics/emf';
import { failedPullSummary, type PullOptions, type PullSummary } from '../pull/pull-source';
import type {
  Clock,
  OktaCredential,
  PullerLogger,
  PullerSourceRegistry,
  SourceActivity,
  SourceActivityStore,
  SourceConfig,
  SourceProblem,
  SourceRefresh,
} from '../ports';
import { PageBudget } from '../memory/page-budget';
import { mapWithConcurrency } from './map-with-concurrency';
import { inShard, SINGLE_SHARD, type PullerShard } from './shard';

export interface PullerDependencies {
  readonly registry: PullerSourceRegistry;
  readonly activity: SourceActivityStore;
  /** Pulls one source (see `sourcePuller`); must not throw for a source's failure. */
  readonly pull: (source: SourceConfig, options: PullOptions) => Promise<PullSummary>;
  readonly clock: Clock;
  readonly logger: PullerLogger;
  /** Writes one EMF document (a JSON line on stdout in the Lambda). */
  readonly emitMetrics: (document: EmfDocument) => void;
}

/** Every bound of a puller run, with the reason for its default. */
export interface PullerLimits {
  /**
   * Sources pulled at once. Eight keeps a 256 MB Lambda's memory bounded (a page of 1,000 events
   * is a few MB, and each source holds at most two: the one being delivered and the one fetched
   * ahead) while a few slow orgs cannot hold up the rest.
   */
  readonly concurrency: number;
  /**
   * Fetching stops this long before the Lambda's own timeout, whatever the budget says: a page
   * requested just before the deadline may still take Okta's 30-second query timeout and then be
   * delivered and its cursor saved.
   */
  readonly timeoutMarginMs: number;
  /**
   * The lease outlives the invocation by this much, so that a run killed by its timeout keeps the
   * source locked until it is surely dead, and no later run pulls the same pages alongside it.
   */
  readonly leaseSlackMs: number;
  /**
   * In-flight pulls are aborted this long before the Lambda's timeout, leaving time to save
   * cursors, emit every source's metrics and return.
   */
  readonly abortMarginMs: number;
  /**
   * Bytes of Okta page bodies held at once across the run (read, or read ahead, and not yet
   * delivered). With each page parsed one event at a time and delivered in small batches, the
   * bodies are what grows with the orgs' pages; with the bodies released since the last
   * collection (see `collectGarbage`), they take up to about twice this. 8 MiB holds three
   * sources' ordinary pages (about 1.3 MB for 1,000 events) and their read-ahead at once; in `npm
   * run bench` (section lambda, 10 sources at 256 MB) it took the ordinary run's peak from
   * 158-179 MB at 16 MiB to 143-157 MB (docs/SCALING.md has the runs and their times); the
   * hostile one (eight sources of 31 MiB pages plus a heap bomb) stayed at 158-207 MB. One page
   * alone may still reach the Okta client's `maxResponseBytes`.
   */
  readonly pageBytesInFlight: number;
}

export const DEFAULT_PULLER_LIMITS: PullerLimits = {
  concurrency: 8,
  timeoutMarginMs: 30_000,
  leaseSlackMs: 5_000,
  abortMarginMs: 5_000,
  pageBytesInFlight: 8 * 1024 * 1024,
};

/**
 * RUN_BUDGET_SECONDS' default: the run stops fetching by 55 s so that one-minute invocations never
 * pile up (the next one starts at 60 s), and saves its cursors before the 90-second timeout.
 */
export const DEFAULT_RUN_BUDGET_MS = 55_000;

export interface PullerRunOptions {
  /** Unique per invocation (the Lambda request id): the lease owner of every source this run pulls. */
  readonly invocationId: string;
  /** How long the run may fetch. @default DEFAULT_RUN_BUDGET_MS */
  readonly budgetMs?: number;
  /** `context.getRemainingTimeInMillis()` at the start; absent outside Lambda. */
  readonly remainingMs?: number;
  readonly limits?: Partial<PullerLimits>;
  /** The part of the sources this invocation pulls. @default SINGLE_SHARD (every source) */
  readonly shard?: PullerShard;
  /**
   * A full garbage collection (`gc`, which the Lambda Node.js runtime exposes), run after each
   * `pageBytesInFlight` of page bodies is released, once the releasing code has let go of them:
   * see `PageBudget`. @default none (released bodies wait for V8's own collections)
   */
  readonly collectGarbage?: () => void;
}

export interface SourceRunReport {
  readonly source: SourceConfig;
  readonly summary: PullSummary;
  readonly metrics: SourceMetrics;
  /** False when its turn came after the deadline: not leased, not pulled (its outcome still says `deadline`). */
  readonly started: boolean;
}

export interface PullerReport {
  readonly invocationId: string;
  readonly shard: PullerShard;
  readonly startedAt: number;
  /** Epoch ms after which no new page was fetched. */
  readonly deadline: number;
  /** Every enabled source of the shard, in the order it was started (least recently updated first). */
  readonly sources: SourceRunReport[];
  /** Ids of the shard's sources listed with `"enabled": false`, or found so by a fresh read during the run. */
  readonly disabled: string[];
  /** The shard's secrets that failed validation. */
  readonly problems: SourceProblem[];
}

/**
 * One puller run: lists the sources of its shard, pulls the enabled ones concurrently (bounded, least recently
 * updated first so that none starves), each under its own lease and the run's deadline, then
 * emits every source's metrics and the run's own (`EventsInvalid` is emitted earlier, as events are
 * sent to the quarantine). A source that fails is reported and never stops or delays the others.
 * A refused credential (401/403) makes the run ask the registry for
 * the source's registration as it is now, not as the (possibly stale) listing or cache had it:
 * a rotated credential is retried once at once, a source offboarded meanwhile is dropped without
 * counting an auth failure, and an unchanged one is reported (one re-read per run, not a retry
 * loop). Throws only when the sources cannot be listed.
 */
export async function runPuller(deps: PullerDependencies, options: PullerRunOptions): Promise<PullerReport> {
  const limits: PullerLimits = { ...DEFAULT_PULLER_LIMITS, ...options.limits };
  const { clock, logger } = deps;
  const startedAt = clock.now();
  const budgetMs = options.budgetMs ?? DEFAULT_RUN_BUDGET_MS;
  const fetchWindowMs = options.remainingMs === undefined ? budgetMs : Math.min(budgetMs, options.remainingMs - limits.timeoutMarginMs);
  const deadline = startedAt + Math.max(0, fetchWindowMs);
  const leaseMs = (options.remainingMs ?? budgetMs + limits.timeoutMarginMs) + limits.leaseSlackMs;

  const shard = options.shard ?? SINGLE_SHARD;
  const mine = (sourceId: string): boolean => inShard(sourceId, shard);
  // Filtered here too, whatever the registry did with `mine`: each source (and each broken
  // secret's SourceConfigErrors count) must be reported by exactly one shard.
  const listing = await deps.registry.list(mine);
  const listed = listing.sources.filter((source) => mine(source.id));
  const problems = listing.problems.filter((problem) => mine(problem.sourceId));
  for (const problem of problems) {
    logger.error('source secret is invalid; the source is not pulled', { sourceId: problem.sourceId, problem: problem.message });
  }
  const enabled = listed.filter((source) => source.enabled);
  const disabled = listed.filter((source) => !source.enabled).map((source) => source.id);

  const activity = await readActivity(deps, enabled);
  const ordered = [...enabled].sort(
    (a, b) => (activity.get(a.id)?.updatedAt ?? 0) - (activity.get(b.id)?.updatedAt ?? 0) || a.id.localeCompare(b.id),
  );

  // Outside the Clock port on purpose: the Lambda's timeout runs on real time, whatever clock the core is given.
  const abort = new AbortController();
  const abortTimer =
    options.remainingMs === undefined
      ? undefined
      : setTimeout(
          () => abort.abort(new Error('the run is about to reach the Lambda timeout')),
          Math.max(0, options.remainingMs - limits.abortMarginMs),
        );
  let attempts: SourceAttempt[];
  try {
    const { collectGarbage } = options;
    const pageBudget = new PageBudget(limits.pageBytesInFlight, collectGarbage && (() => setImmediate(collectGarbage)));
    attempts = await mapWithConcurrency(ordered, limits.concurrency, (source) =>
      pullOne(deps, source, {
        owner: options.invocationId,
        deadline,
        leaseMs,
        signal: abort.signal,
        pageBudget,
        // Counted as the events are sent, not with the run's other metrics: see quarantineMetricsDocument.
        onQuarantine: (count) => deps.emitMetrics(quarantineMetricsDocument(source.id, count, clock.now())),
      }),
    );
  } finally {
    if (abortTimer !== undefined) clearTimeout(abortTimer);
  }
  // Offboarded or disabled while the run pulled it: reported like a source the listing no longer
  // shows (no metrics) or one listed disabled.
  disabled.push(...attempts.filter((attempt) => attempt.removed === 'disabled').map((attempt) => attempt.source.id));
  const pulledAttempts = attempts.filter((attempt) => attempt.removed === undefined);

  const now = clock.now();
  const reports: SourceRunReport[] = pulledAttempts.map(({ source, summary, started }) => {
    const before = activity.get(source.id);
    const metrics = computeSourceMetrics(
      {
        pages: summary.pages,
        delivered: summary.delivered,
        invalid: summary.invalid,
        rateLimitWaits: summary.rateLimitWaits,
        failed: summary.outcome === 'failed',
        authFailed: credentialRefused(summary),
        pagingLoop: summary.error?.kind === 'paging-loop',
      },
      {
        lastEventAt: summary.lastEventAt ?? before?.lastEventAt,
        newestPublished: summary.newestPublished ?? before?.newestPublished,
        // A source never leased before got its firstSeenAt in this run's acquire.
        firstSeenAt: before?.firstSeenAt ?? startedAt,
      },
      source.dropOffMinutes,
      now,
    );
    deps.emitMetrics(sourceMetricsDocument(source.id, metrics, now, { Outcome: summary.outcome }));
    return { source, summary, metrics, started };
  });
  // A source never started also reports `deadline`; counting it would hide that the run could not reach it.
  const pulled = reports.filter(
    ({ summary, started }) => started && (summary.outcome === 'caught-up' || summary.outcome === 'deadline'),
  ).length;
  deps.emitMetrics(
    deploymentMetricsDocument(
      deploymentMetrics(
        {
          SourceConfigErrors: problems.length,
          SourcesPulled: pulled,
          EventsInvalid: reports.reduce((sum, { summary }) => sum + summary.invalid, 0),
        },
        reports.map(({ metrics }) => metrics),
      ),
      now,
    ),
  );
  logger.info('puller run finished', {
    shard: shard.index,
    shards: shard.count,
    sources: reports.length,
    pulled,
    disabled: disabled.length,
    invalidSecrets: problems.length,
    delivered: reports.reduce((sum, { summary }) => sum + summary.delivered, 0),
    durationMs: now - startedAt,
  });
  return { invocationId: options.invocationId, shard, startedAt, deadline, sources: reports, disabled, problems };
}

async function readActivity(deps: PullerDependencies, sources: readonly SourceConfig[]): Promise<Map<string, SourceActivity>> {
  if (sources.length === 0) return new Map();
  try {
    return await deps.activity.activity(sources.map((source) => source.id));
  } catch (error) {
    // Activity only orders the sources and dates their silence; the pulls themselves can still run.
    deps.logger.warn('cannot read source activity; pulling in id order', { error: error instanceof Error ? error.message : String(error) });
    return new Map();
  }
}

/** One source's turn in a run: the configuration it ended with and what its pulls did. */
interface SourceAttempt {
  /** The configuration pulled last: the registry's fresh one after a retry. */
  readonly source: SourceConfig;
  readonly summary: PullSummary;
  readonly started: boolean;
  /** Set when a fresh read after a refused credential found the source offboarded or disabled. */
  readonly removed?: 'offboarded' | 'disabled';
}

async function pullOne(deps: PullerDependencies, listed: SourceConfig, options: PullOptions): Promise<SourceAttempt> {
  const { clock, logger } = deps;
  const started = clock.now();
  const notStarted = started >= options.deadline || options.signal?.aborted === true;
  let source = listed;
  let summary: PullSummary;
  if (notStarted) {
    // Its turn came after the deadline: not even the lease is taken; it goes first next run.
    summary = { sourceId: source.id, outcome: 'deadline', pages: 0, delivered: 0, invalid: 0, rateLimitWaits: 0, rateLimitWaitMs: 0 };
  } else {
    summary = await pullGuarded(deps, source, options);
    if (credentialRefused(summary)) {
      const refresh = await refreshSource(deps, source.id);
      if (refresh.status === 'offboarded' || (refresh.status === 'current' && !refresh.source.enabled)) {
        const removed = refresh.status === 'offboarded' ? 'offboarded' : 'disabled';
        logger.info(`source was ${removed} since it was listed; its refused credential is not counted`, { sourceId: source.id });
        return { source: refresh.status === 'current' ? refresh.source : source, summary, started: true, removed };
      }
      if (refresh.status === 'current' && !sameOrgAndCredential(source, refresh.source)) {
        // Rotated since the listing (or the cache) was read: the one retry the refusal earns.
        logger.info('source credential was refused and has changed since it was read; retrying once with the new one', {
          sourceId: source.id,
        });
        source = refresh.source;
        summary = addAttempts(summary, await pullGuarded(deps, source, options));
      }
    }
  }
  const attributes = {
    sourceId: source.id,
    outcome: summary.outcome,
    pages: summary.pages,
    delivered: summary.delivered,
    invalid: summary.invalid,
    rateLimitWaits: summary.rateLimitWaits,
    rateLimitWaitMs: summary.rateLimitWaitMs,
    retries: summary.retries ?? 0,
    pageSplits: summary.pageSplits ?? 0,
    durationMs: clock.now() - started,
  };
  if (summary.error === undefined) {
    logger.info('source pulled', attributes);
  } else {
    logger.error('source pull failed', { ...attributes, errorKind: summary.error.kind, error: summary.error.message });
  }
  return { source, summary, started: !notStarted };
}

/**
 * Okta refused the source's credential: a 401 or refused OAuth client (`auth`), or a 403, an
 * `invalid_scope` answer or a lost admin role (`permission`). Both need someone to fix the
 * secret or the org's grants, so both count as `AuthFailures` (the metric `SourceAuthFailures`
 * pages on) and both earn the one re-read of the secret.
 */
function credentialRefused(summary: PullSummary): boolean {
  return summary.error?.kind === 'auth' || summary.error?.kind === 'permission';
}

/** `deps.pull`, with an unexpected throw turned into a failed summary like any other failure. */
async function pullGuarded(deps: PullerDependencies, source: SourceConfig, options: PullOptions): Promise<PullSummary> {
  try {
    return await deps.pull(source, options);
  } catch (error) {
    return failedPullSummary(source.id, {
      kind: 'internal',
      message: `source ${source.id}: the pull failed unexpectedly: ${error instanceof Error ? error.message : String(error)}`,
    });
  }
}

/** `registry.refresh`, where a registry that throws counts as having nothing newer to offer. */
async function refreshSource(deps: PullerDependencies, sourceId: string): Promise<SourceRefresh> {
  try {
    return await deps.registry.refresh(sourceId);
  } catch (error) {
    deps.logger.warn('cannot re-read the source after its credential was refused', {
      sourceId,
      error: error instanceof Error ? error.message : String(error),
    });
    return { status: 'unavailable' };
  }
}

/** Whether a retry could be answered differently: another org, or another credential. */
function sameOrgAndCredential(a: SourceConfig, b: SourceConfig): boolean {
  return a.domain === b.domain && sameCredential(a.credential, b.credential);
}

function sameCredential(x: OktaCredential, y: OktaCredential): boolean {
  if (x.kind === 'apiToken') return y.kind === 'apiToken' && x.token === y.token;
  return y.kind === 'oauth' && x.clientId === y.clientId && x.privateKeyPem === y.privateKeyPem && x.keyId === y.keyId && x.dpop === y.dpop;
}

/** One summary of a refused attempt and its retry: the retry's outcome, both attempts' counters. */
function addAttempts(first: PullSummary, retry: PullSummary): PullSummary {
  // The retry resumed from the cursor the first attempt saved, so its newest values are the run's.
  return {
    ...retry,
    pages: first.pages + retry.pages,
    delivered: first.delivered + retry.delivered,
    invalid: first.invalid + retry.invalid,
    rateLimitWaits: first.rateLimitWaits + retry.rateLimitWaits,
    rateLimitWaitMs: first.rateLimitWaitMs + retry.rateLimitWaitMs,
    retries: (first.retries ?? 0) + (retry.retries ?? 0),
    pageSplits: (first.pageSplits ?? 0) + (retry.pageSplits ?? 0),
  };
}
