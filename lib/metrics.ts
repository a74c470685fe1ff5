import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';

/** The EMF namespace of the puller's and the detections' own metrics (shared contract). */
export const METRICS_NAMESPACE = 'OktaLogPipeline';

/**
 * The metrics the puller emits per source, dimension set exactly `[["SourceId"]]`: only those a
 * per-source alarm reads, because each costs a custom metric per source. `DropOffBreached` is
 * emitted every run; `AuthFailures`, `PagingLoops` and `EventsInvalid` only when non-zero.
 * The other per-source values are fields of the puller's log line (see `pullerLogQuery`).
 */
export type SourceMetricName = 'EventsInvalid' | 'AuthFailures' | 'PagingLoops' | 'DropOffBreached';

/** Puller-wide (summed over the run's sources, `LagSeconds` the largest) and detections metrics, published without dimensions. */
export type GlobalMetricName =
  | 'SourceConfigErrors'
  | 'SourcesPulled'
  | 'EventsDelivered'
  | 'EventsInvalid'
  | 'PagesFetched'
  | 'RateLimited'
  | 'PullErrors'
  | 'AuthFailures'
  | 'PagingLoops'
  | 'LagSeconds'
  | 'AlertsRaised'
  | 'DetectionErrors';

export type InsightsFunction = 'SUM' | 'MAX' | 'MIN' | 'AVG';

/**
 * A Metrics Insights query over one per-source metric, one time series per source. Because it
 * selects from `SCHEMA(namespace, SourceId)` rather than naming sources, a source onboarded
 * later is included without a redeploy.
 */
export function perSourceQuery(fn: InsightsFunction, metric: SourceMetricName, period: Duration, label?: string): MathExpression {
  return new MathExpression({
    expression: `SELECT ${fn}(${metric}) FROM SCHEMA("${METRICS_NAMESPACE}", SourceId) GROUP BY SourceId`,
    period,
    label,
  });
}

/** One of the dimensionless metrics. */
export function globalMetric(metric: GlobalMetricName, statistic: string = Stats.SUM, period: Duration = Duration.minutes(5)): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName: metric, statistic, period });
}

/** One source's series of a per-source metric (its dimension set is exactly `[["SourceId"]]`). */
export function sourceMetric(metric: SourceMetricName, sourceId: string, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: METRICS_NAMESPACE, metricName: metric, dimensionsMap: { SourceId: sourceId }, statistic, period });
}
