import { emfDocument, type EmfDocument, type EmfUnit } from './emf';

/** What one run of one source did, as the pull summary reports it. */
export interface SourceRunCounts {
  readonly pages: number;
  readonly delivered: number;
  readonly invalid: number;
  readonly rateLimitWaits: number;
  /** The run failed (any error kind). */
  readonly failed: boolean;
  /** The failure was the credential being refused (401): on-call must rotate it. */
  readonly authFailed: boolean;
  /** The failure was Okta's paging looping (a full page's next link repeating a fetched URL). */
  readonly pagingLoop?: boolean;
}

/** What is known about the source across runs (its cursor item). */
export interface SourceHistory {
  /** Epoch ms at which the newest delivered event was received. */
  readonly lastEventAt?: number;
  /** Newest `published` delivered (RFC 3339). */
  readonly newestPublished?: string;
  /** Epoch ms at which the puller first saw the source (its first lease). */
  readonly firstSeenAt?: number;
}

/**
 * The per-source metrics of the contracts, emitted for every enabled source at the end of every
 * run. `EventsInvalid` is not among them: it is emitted on its own as events are sent to the
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

const UNITS: Readonly<Record<keyof SourceMetrics, EmfUnit>> = {
  EventsDelivered: 'Count',
  PagesFetched: 'Count',
  RateLimited: 'Count',
  PullErrors: 'Count',
  AuthFailures: 'Count',
  PagingLoops: 'Count',
  LagSeconds: 'Seconds',
  MinutesSinceLastEvent: 'None',
  DropOffBreached: 'None',
};

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

/** The EMF document of one source: dimension set exactly `[["SourceId"]]`. */
export function sourceMetricsDocument(sourceId: string, metrics: SourceMetrics, timestamp: number, properties: Readonly<Record<string, string | number>> = {}): EmfDocument {
  const entries = Object.entries(metrics) as Array<[keyof SourceMetrics, number]>;
  return emfDocument({
    timestamp,
    dimensions: { SourceId: sourceId },
    metrics: Object.fromEntries(entries.map(([name, value]) => [name, { value, unit: UNITS[name] }])),
    properties,
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
  return emfDocument({ timestamp, dimensions: { SourceId: sourceId }, metrics: { EventsInvalid: { value: count, unit: 'Count' } } });
}

/** The puller-wide EMF document: no dimensions (`[[]]`). */
export function pullerMetricsDocument(values: { readonly SourceConfigErrors: number; readonly SourcesPulled: number }, timestamp: number): EmfDocument {
  return emfDocument({
    timestamp,
    dimensions: {},
    metrics: {
      SourceConfigErrors: { value: values.SourceConfigErrors, unit: 'Count' },
      SourcesPulled: { value: values.SourcesPulled, unit: 'Count' },
    },
  });
}
