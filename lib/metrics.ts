import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';

/** The EMF namespace of the puller's and the detections' own metrics (shared contract). */
export const METRICS_NAMESPACE = 'OktaLogPipeline';

/** The metrics the puller emits per source, dimension set exactly `[["SourceId"]]`. */
export type SourceMetricName =
  | 'EventsDelivered'
  | 'EventsInvalid'
  | 'PagesFetched'
  | 'RateLimited'
  | 'PullErrors'
  | 'AuthFailures'
  | 'PagingLoops'
  | 'LagSeconds'
  | 'MinutesSinceLastEvent'
  | 'DropOffBreached';

/** Puller-wide and detections metrics, published without dimensions. */
export type GlobalMetricName = 'SourceConfigErrors' | 'SourcesPulled' | 'AlertsRaised' | 'DetectionErrors';

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
