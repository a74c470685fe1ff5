/**
 * The metrics contract of the pipeline: the CloudWatch namespace, every metric name with its unit,
 * and the dimension names. Users' alarms, dashboards and Logs Insights queries name these, so they
 * are interfaces: the Lambdas emit them (`emf.ts`) and the stack alarms on and graphs them
 * (lib/metrics.ts) from this one module. It imports nothing, so CDK code may import it too.
 */

/** The CloudWatch namespace of every metric the puller and the detections emit. */
export const METRICS_NAMESPACE = 'OktaLogPipeline';

/** The one dimension of the per-source metrics: their dimension set is exactly `[SourceId]`. */
export const SOURCE_ID_DIMENSION = 'SourceId';

/** The EMF units the pipeline uses (a subset of CloudWatch's `StandardUnit`). */
export type MetricUnit = 'Count' | 'Seconds' | 'None';

/**
 * Every metric of the namespace with its unit. A name may be published under more than one
 * dimension set (see `SOURCE_METRICS`, `PULLER_RUN_METRICS`, `DETECTION_METRICS`), always with
 * this unit.
 */
export const METRIC_UNITS = {
  EventsDelivered: 'Count',
  EventsInvalid: 'Count',
  PagesFetched: 'Count',
  RateLimited: 'Count',
  PullErrors: 'Count',
  AuthFailures: 'Count',
  PagingLoops: 'Count',
  SourceConfigErrors: 'Count',
  SourcesPulled: 'Count',
  LagSeconds: 'Seconds',
  DropOffBreached: 'None',
  AlertsRaised: 'Count',
  DetectionErrors: 'Count',
} as const satisfies Readonly<Record<string, MetricUnit>>;

export type MetricName = keyof typeof METRIC_UNITS;

/**
 * The metrics the puller publishes per source (dimension set exactly `[SourceId]`): only those a
 * per-source alarm reads, because each costs a custom metric per source. `DropOffBreached` is
 * emitted every run; `AuthFailures`, `PagingLoops` and `EventsInvalid` only when non-zero.
 */
export const SOURCE_METRICS = ['DropOffBreached', 'AuthFailures', 'PagingLoops', 'EventsInvalid'] as const satisfies readonly MetricName[];
export type SourceMetricName = (typeof SOURCE_METRICS)[number];

/** The run totals that are the sum of the same value over the run's sources. */
export const SUMMED_RUN_METRICS = [
  'EventsDelivered',
  'PagesFetched',
  'RateLimited',
  'PullErrors',
  'AuthFailures',
  'PagingLoops',
] as const satisfies readonly MetricName[];

/**
 * The puller's run totals, published without dimensions (`[[]]`), in this order: its own counts,
 * the sums over the run's sources and the largest `LagSeconds`.
 */
export const PULLER_RUN_METRICS = [
  'SourceConfigErrors',
  'SourcesPulled',
  'EventsInvalid',
  ...SUMMED_RUN_METRICS,
  'LagSeconds',
] as const satisfies readonly MetricName[];
export type PullerRunMetricName = (typeof PULLER_RUN_METRICS)[number];

/** The detections Lambda's metrics, one document per batch, without dimensions (`[[]]`). */
export const DETECTION_METRICS = ['AlertsRaised', 'DetectionErrors'] as const satisfies readonly MetricName[];
export type DetectionMetricName = (typeof DETECTION_METRICS)[number];

/** A metric published without dimensions. */
export type GlobalMetricName = PullerRunMetricName | DetectionMetricName;
