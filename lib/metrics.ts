import { Duration } from 'aws-cdk-lib';
import { MathExpression, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { METRICS_NAMESPACE, SOURCE_ID_DIMENSION, type GlobalMetricName, type SourceMetricName } from '../lambdas/core/metrics/metric-names';

/**
 * Alarms and graphs over the Lambdas' metrics, named by their contract (metric-names.ts): the
 * per-source ones (`SourceMetricName`, dimension set exactly `[SourceId]`; the other per-source
 * values are fields of the puller's log line, see `PULLER_SOURCE_LINES`) and those published
 * without dimensions (`GlobalMetricName`: run totals and the detections' counts).
 */
export type InsightsFunction = 'SUM' | 'MAX' | 'MIN' | 'AVG';

/**
 * A Metrics Insights query over one per-source metric, one time series per source. Because it
 * selects from `SCHEMA(namespace, SourceId)` rather than naming sources, a source onboarded
 * later is included without a redeploy.
 */
export function perSourceQuery(fn: InsightsFunction, metric: SourceMetricName, period: Duration, label?: string): MathExpression {
  return new MathExpression({
    expression: `SELECT ${fn}(${metric}) FROM SCHEMA("${METRICS_NAMESPACE}", ${SOURCE_ID_DIMENSION}) GROUP BY ${SOURCE_ID_DIMENSION}`,
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
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: metric,
    dimensionsMap: { [SOURCE_ID_DIMENSION]: sourceId },
    statistic,
    period,
  });
}
