import { METRICS_NAMESPACE, type MetricUnit } from './metric-names';

/**
 * One CloudWatch Embedded Metric Format document: a JSON log line that CloudWatch turns into
 * metrics. Built here rather than by Powertools Metrics (reasons in lambda-telemetry.ts, which
 * writes these lines for both Lambdas): above all, the drop-off alarm's
 * `SCHEMA("OktaLogPipeline", SourceId)` only matches series whose dimension set is exactly
 * `[SourceId]`, and Powertools adds a `service` dimension to every set.
 */
export interface EmfDocument {
  readonly _aws: {
    readonly Timestamp: number;
    readonly CloudWatchMetrics: ReadonlyArray<{
      readonly Namespace: string;
      readonly Dimensions: ReadonlyArray<readonly string[]>;
      readonly Metrics: ReadonlyArray<{ readonly Name: string; readonly Unit: MetricUnit }>;
    }>;
  };
  readonly [member: string]: unknown;
}

/**
 * Builds an EMF document with exactly one dimension set: the keys of `dimensions` (none gives
 * `[[]]`, a metric without dimensions). `properties` are searchable log fields, not metrics.
 */
export function emfDocument(options: {
  readonly timestamp: number;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly metrics: Readonly<Record<string, { readonly value: number; readonly unit: MetricUnit }>>;
  readonly properties?: Readonly<Record<string, string | number>>;
}): EmfDocument {
  const values: Record<string, number> = {};
  for (const [name, { value }] of Object.entries(options.metrics)) values[name] = value;
  return {
    ...options.properties,
    ...values,
    ...options.dimensions,
    _aws: {
      Timestamp: options.timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(options.dimensions)],
          Metrics: Object.entries(options.metrics).map(([name, { unit }]) => ({ Name: name, Unit: unit })),
        },
      ],
    },
  };
}
