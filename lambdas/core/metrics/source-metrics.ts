import type { CursorActivity } from '../../contracts/cursor-item';
import { emfDocument, type EmfDocument } from './emf';
import { METRIC_UNITS, SOURCE_ID_DIMENSION, SUMMED_RUN_METRICS, type PullerRunMetricName, type SourceMetricName } from './metric-names';

/** What one run of one source did, as the pull summary reports it. */
export interface SourceRunCounts {
  readonly pages: number;
  readonly delivered: number;
  readonly invalid: number;
  readonly rateLimitWaits: number;
  /** The run failed (any error kind). */
  readonly failed: boolean;
  /** The failure was the credential being refused (401, or 403: scope or admin role lost): on-call must fix the secret or the grants. */
  readonly authFailed: boolean;
  /** The failure was Okta's paging looping (a full page's next link repeating a fetched URL). */
  readonly pagingLoop?: boolean;
}

/** What is known about the source across runs: the fields of its cursor item that silence and lag are measured from. */
export type SourceHistory = Pick<CursorActivity, 'lastEventAt' | 'newestPublished' | 'firstSeenAt'>;

/**
 * The per-source values of the contracts, computed for every enabled source at the end of every
 * run (the source's log line carries them all; `perSourceMetricNames` says which are CloudWatch
 * metrics). `EventsInvalid` is not among them: it is emitted on its own as events are sent to the
 * quarantine (`quarantineMetricsDocument`), so a run that dies afterwards has already counted them.
 */
export interface SourceMetrics {
  readonly EventsDelivered: number;
  readonly PagesFetched: number;
  readonly RateLimited: number;
  readonly PullErrors: number;
  readonly AuthFailures: number;
  readonly PagingLoops: number;
  readonly LagSeconds: number;
  readonly MinutesSinceLastEvent: number;
  readonly DropOffBreached: number;
}

/**
 * Computes one source's metrics for one run.
 *
 * Silence is measured from the last event received; a source that has never delivered one is
 * measured from when the puller first saw it (its onboarding), so a source whose token never
 * worked pages after its own `dropOffMinutes` instead of never, and a freshly added quiet org gets
 * a full interval first. When even that is unknown (the cursor table could not be read) the run's
 * own time is used: no page now, and the next run, which can read it, decides.
 * `LagSeconds` is the age of the newest delivered `published`, with the same fallback.
 */
export function computeSourceMetrics(counts: SourceRunCounts, history: SourceHistory, dropOffMinutes: number, now: number): SourceMetrics {
  const silentSince = history.lastEventAt ?? history.firstSeenAt ?? now;
  const minutesSinceLastEvent = Math.max(0, (now - silentSince) / 60_000);
  const newestPublished = history.newestPublished === undefined ? Number.NaN : Date.parse(history.newestPublished);
  const lagFrom = Number.isNaN(newestPublished) ? (history.firstSeenAt ?? now) : newestPublished;
  return {
    EventsDelivered: counts.delivered,
    PagesFetched: counts.pages,
    RateLimited: counts.rateLimitWaits,
    PullErrors: counts.failed ? 1 : 0,
    AuthFailures: counts.authFailed ? 1 : 0,
    PagingLoops: counts.pagingLoop === true ? 1 : 0,
    LagSeconds: Math.max(0, Math.round((now - lagFrom) / 1000)),
    MinutesSinceLastEvent: Math.floor(minutesSinceLastEvent * 100) / 100,
    DropOffBreached: minutesSinceLastEvent >= dropOffMinutes ? 1 : 0,
  };
}

/**
 * The per-source metrics a per-source alarm reads: only these are CloudWatch metrics with the
 * dimension set `[["SourceId"]]`, because each such series costs a custom metric (and a Metrics
 * Insights alarm contributor) per source for every hour it receives data.
 * - `DropOffBreached`: every run, zeros included, so that the drop-off alarm evaluates every
 *   source every period and a recovered source gets a real OK datapoint.
 * - `AuthFailures`, `PagingLoops`: only in a run where they are non-zero. Their alarms (SUM >= 1,
 *   missing data not breaching) read nothing else, and a metric is billed only for the hours it
 *   receives data, so a healthy source costs nothing for them. `EventsInvalid` (the quarantine
 *   alarm's) follows the same rule: it is only emitted when events are quarantined.
 * Everything else is reported per deployment (`deploymentMetricsDocument`) and, per source, as
 * plain fields of the same log line, which Logs Insights queries at no standing cost.
 */
export function perSourceMetricNames(metrics: SourceMetrics): Array<SourceMetricName & keyof SourceMetrics> {
  const names: Array<SourceMetricName & keyof SourceMetrics> = ['DropOffBreached'];
  if (metrics.AuthFailures > 0) names.push('AuthFailures');
  if (metrics.PagingLoops > 0) names.push('PagingLoops');
  return names;
}

/**
 * The structured log line of one source's run: every value of `SourceMetrics` as a field, of which
 * only `perSourceMetricNames` are declared as EMF metrics (dimension set exactly `[["SourceId"]]`).
 */
export function sourceMetricsDocument(
  sourceId: string,
  metrics: SourceMetrics,
  timestamp: number,
  properties: Readonly<Record<string, string | number>> = {},
): EmfDocument {
  const declared = perSourceMetricNames(metrics);
  return emfDocument({
    timestamp,
    dimensions: { [SOURCE_ID_DIMENSION]: sourceId },
    metrics: Object.fromEntries(declared.map((name) => [name, { value: metrics[name], unit: METRIC_UNITS[name] }])),
    properties: { ...properties, ...metrics },
  });
}

/**
 * `EventsInvalid` of one source: `count` events about to be written to the quarantine. Emitted
 * before the write, not at the end of the run, so that the quarantine alarm sees every event in
 * the bucket even when the run is killed right after writing it. A write that fails fails the
 * page, which is read and quarantined again, so an event may be counted more than once (as the
 * records of a re-read page are delivered more than once), never not at all.
 */
export function quarantineMetricsDocument(sourceId: string, count: number, timestamp: number): EmfDocument {
  return emfDocument({
    timestamp,
    dimensions: { [SOURCE_ID_DIMENSION]: sourceId },
    metrics: { EventsInvalid: { value: count, unit: METRIC_UNITS.EventsInvalid } },
  });
}

/** The per-source values a run adds up over its sources for the deployment. */
const SUMMED = SUMMED_RUN_METRICS satisfies ReadonlyArray<keyof SourceMetrics>;

/** The run's own counts: sources pulled, unusable secrets, and events quarantined over all sources. */
export interface RunCounts {
  readonly SourceConfigErrors: number;
  readonly SourcesPulled: number;
  readonly EventsInvalid: number;
}

/**
 * What one run reports for the whole deployment (its shard), without dimensions: its own counts,
 * the sums of `SUMMED` over its sources, and the largest `LagSeconds` (how far behind Okta the
 * deployment's worst org is).
 */
export type DeploymentMetrics = RunCounts &
  Pick<SourceMetrics, (typeof SUMMED)[number] | 'LagSeconds'> &
  Readonly<Record<PullerRunMetricName, number>>;

/** Adds up the sources' metrics of one run into the deployment's. */
export function deploymentMetrics(values: RunCounts, sources: readonly SourceMetrics[]): DeploymentMetrics {
  const sums = Object.fromEntries(SUMMED.map((name) => [name, sources.reduce((total, metrics) => total + metrics[name], 0)])) as Pick<
    SourceMetrics,
    (typeof SUMMED)[number]
  >;
  return { ...values, ...sums, LagSeconds: sources.reduce((max, metrics) => Math.max(max, metrics.LagSeconds), 0) };
}

/**
 * The puller-wide EMF document: no dimensions (`[[]]`), so its cost does not grow with the number
 * of sources. The same names as the per-source metrics, but the dimension set differs, so the
 * per-source alarms' `SCHEMA("OktaLogPipeline", SourceId)` never matches these series.
 */
export function deploymentMetricsDocument(metrics: DeploymentMetrics, timestamp: number): EmfDocument {
  const entries = Object.entries(metrics) as Array<[keyof DeploymentMetrics, number]>;
  return emfDocument({
    timestamp,
    dimensions: {},
    metrics: Object.fromEntries(entries.map(([name, value]) => [name, { value, unit: METRIC_UNITS[name] }])),
  });
}
