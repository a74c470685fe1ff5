/**
 * The metric*() methods of the Puller and Detections constructs: what alarms and the dashboard
 * read, and what a user's own alarm on one org would use. Checked as CloudWatch receives them
 * (the resolved metric configuration), not as the methods build them.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Alarm, Stats, type IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { buildPipeline } from './synth-pipeline';

const { stack } = buildPipeline();
const { puller, detections } = stack;
const resolve = (value: unknown) => Stack.of(stack).resolve(value) as unknown;

/** The metric as CloudWatch gets it: an expression, or namespace/name/dimensions/statistic/period. */
function rendered(metric: IMetric): Record<string, unknown> {
  const config = metric.toMetricConfig();
  if (config.mathExpression !== undefined) {
    return { expression: config.mathExpression.expression, period: config.mathExpression.period, label: config.renderingProperties?.label };
  }
  const stat = config.metricStat!;
  return {
    namespace: stat.namespace,
    metricName: stat.metricName,
    dimensions: resolve(stat.dimensions ?? []),
    statistic: stat.statistic,
    period: stat.period.toSeconds(),
  };
}

const perSource = ['DropOffBreached', 'AuthFailures', 'PagingLoops', 'EventsInvalid'] as const;
const methodOf = {
  DropOffBreached: (options = {}) => puller.metricDropOffBreached(options),
  AuthFailures: (options = {}) => puller.metricAuthFailures(options),
  PagingLoops: (options = {}) => puller.metricPagingLoops(options),
  EventsInvalid: (options = {}) => puller.metricEventsInvalid(options),
} satisfies Record<(typeof perSource)[number], (options?: object) => IMetric>;
const fnOf = { DropOffBreached: 'MAX', AuthFailures: 'SUM', PagingLoops: 'SUM', EventsInvalid: 'SUM' } as const;

describe('Puller metrics', () => {
  it.each(perSource)('metric%s() is one series per source: a Metrics Insights GROUP BY SourceId query, 5 minutes by default', (name) => {
    expect(rendered(methodOf[name]())).toEqual({
      expression: `SELECT ${fnOf[name]}(${name}) FROM SCHEMA("OktaLogPipeline", SourceId) GROUP BY SourceId`,
      period: 300,
      label: undefined,
    });
    expect(rendered(methodOf[name]({ period: Duration.minutes(1), label: '' }))).toMatchObject({ period: 60, label: '' });
  });

  it.each(perSource)("metric%s({ sourceId }) is that one source's series (dimension SourceId)", (name) => {
    expect(rendered(methodOf[name]({ sourceId: 'acme' }))).toEqual({
      namespace: 'OktaLogPipeline',
      metricName: name,
      dimensions: [{ name: 'SourceId', value: 'acme' }],
      statistic: fnOf[name] === 'MAX' ? 'Maximum' : 'Sum',
      period: 300,
    });
  });

  it('metricRunTotal() is the dimensionless run total, SUM over 5 minutes unless told otherwise', () => {
    expect(rendered(puller.metricRunTotal('EventsDelivered'))).toEqual({
      namespace: 'OktaLogPipeline',
      metricName: 'EventsDelivered',
      dimensions: [],
      statistic: 'Sum',
      period: 300,
    });
    expect(rendered(puller.metricRunTotal('LagSeconds', { statistic: Stats.MAXIMUM, period: Duration.minutes(1) }))).toMatchObject({
      metricName: 'LagSeconds',
      statistic: 'Maximum',
      period: 60,
    });
  });

  it("lets a user alarm on one org: the alarm names the source's series", () => {
    const own = buildPipeline();
    new Alarm(own.stack, 'AcmeDropOff', {
      metric: own.stack.puller.metricDropOffBreached({ sourceId: 'acme' }),
      threshold: 1,
      evaluationPeriods: 1,
    });
    Template.fromStack(own.stack).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'OktaLogPipeline',
      MetricName: 'DropOffBreached',
      Dimensions: [{ Name: 'SourceId', Value: 'acme' }],
      Statistic: 'Maximum',
      Period: 300,
    });
  });
});

describe('Detections metrics', () => {
  it("metricAlertsRaised() and metricDetectionErrors() are the handler's dimensionless counts", () => {
    expect(rendered(detections.metricAlertsRaised())).toEqual({
      namespace: 'OktaLogPipeline',
      metricName: 'AlertsRaised',
      dimensions: [],
      statistic: 'Sum',
      period: 300,
    });
    expect(rendered(detections.metricDetectionErrors({ period: Duration.minutes(1) }))).toEqual({
      namespace: 'OktaLogPipeline',
      metricName: 'DetectionErrors',
      dimensions: [],
      statistic: 'Sum',
      period: 60,
    });
  });

  it("metricIteratorAge() and metricFunctionErrors() are the function's own AWS/Lambda metrics", () => {
    const functionName = resolve(detections.function.functionName);
    expect(rendered(detections.metricIteratorAge())).toEqual({
      namespace: 'AWS/Lambda',
      metricName: 'IteratorAge',
      dimensions: [{ name: 'FunctionName', value: functionName }],
      statistic: 'Maximum',
      period: 300,
    });
    expect(rendered(detections.metricFunctionErrors())).toMatchObject({
      namespace: 'AWS/Lambda',
      metricName: 'Errors',
      statistic: 'Sum',
      period: 300,
    });
  });

  it("metricDeadLetters() is the dead-letter queue's visible messages", () => {
    expect(rendered(detections.metricDeadLetters())).toEqual({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: [{ name: 'QueueName', value: resolve(detections.deadLetterQueue.queueName) }],
      statistic: 'Maximum',
      period: 300,
    });
  });
});
