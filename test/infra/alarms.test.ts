import * as fs from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { computeSourceMetrics, quarantineMetricsDocument, sourceMetricsDocument } from '../../lambdas/core/metrics/source-metrics';
import { logicalIdOf, synthPipeline } from './synth-pipeline';

const { template } = synthPipeline();
const onCallTopicId = logicalIdOf(template, 'AWS::SNS::Topic', { DisplayName: 'okta-log-pipeline on-call' });
const pullerId = logicalIdOf(template, 'AWS::Lambda::Function', {
  Environment: { Variables: Match.objectLike({ SOURCE_SECRET_PREFIX: Match.anyValue() }) },
});
const detectionsId = logicalIdOf(template, 'AWS::Lambda::Function', {
  Environment: { Variables: Match.objectLike({ STATE_TABLE_NAME: Match.anyValue() }) },
});
const streamId = logicalIdOf(template, 'AWS::Kinesis::Stream');
const dlqId = logicalIdOf(template, 'AWS::SQS::Queue');
const deliveryStreamId = logicalIdOf(template, 'AWS::KinesisFirehose::DeliveryStream');
const deliveryStream = [{ Name: 'DeliveryStreamName', Value: { Ref: deliveryStreamId } }];

// Literal on purpose, here and below: the namespace, metric names and dimension are what users'
// alarms, dashboards and queries name; the stack takes them from metric-names.ts, and this pins them.
const perSource = (fn: string, metric: string) => `SELECT ${fn}(${metric}) FROM SCHEMA("OktaLogPipeline", SourceId) GROUP BY SourceId`;

const expected: Record<string, Record<string, unknown>> = {
  SourceDropOff: {
    Metrics: [{ Id: Match.anyValue(), Expression: perSource('MAX', 'DropOffBreached'), Period: 300, ReturnData: true }],
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    DatapointsToAlarm: 1,
    TreatMissingData: 'notBreaching',
  },
  PullerNotRunning: {
    Namespace: 'AWS/Lambda',
    MetricName: 'Invocations',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: pullerId } }],
    Statistic: 'Sum',
    Period: 300,
    ComparisonOperator: 'LessThanThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    TreatMissingData: 'breaching',
  },
  PullerErrors: {
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: pullerId } }],
    Statistic: 'Sum',
    Period: 300,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    TreatMissingData: 'notBreaching',
  },
  SourceAuthFailures: {
    Metrics: [{ Id: Match.anyValue(), Expression: perSource('SUM', 'AuthFailures'), Period: 300, ReturnData: true }],
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  },
  SourcePagingLoop: {
    Metrics: [{ Id: Match.anyValue(), Expression: perSource('SUM', 'PagingLoops'), Period: 300, ReturnData: true }],
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  },
  SourceConfigErrors: {
    Namespace: 'OktaLogPipeline',
    MetricName: 'SourceConfigErrors',
    Dimensions: Match.absent(),
    Statistic: 'Maximum',
    Period: 300,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  },
  QuarantinedEvents: {
    Metrics: [{ Id: Match.anyValue(), Expression: perSource('SUM', 'EventsInvalid'), Period: 300, ReturnData: true }],
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 1,
    TreatMissingData: 'notBreaching',
  },
  StreamWriteThrottled: {
    Namespace: 'AWS/Kinesis',
    MetricName: 'PutRecords.ThrottledRecords',
    Dimensions: [{ Name: 'StreamName', Value: { Ref: streamId } }],
    Statistic: 'Sum',
    Period: 300,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    TreatMissingData: 'notBreaching',
  },
  DetectionsIteratorAge: {
    Namespace: 'AWS/Lambda',
    MetricName: 'IteratorAge',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: detectionsId } }],
    Statistic: 'Maximum',
    Period: 300,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 900_000,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    TreatMissingData: 'notBreaching',
  },
  DetectionsFunctionErrors: {
    Namespace: 'AWS/Lambda',
    MetricName: 'Errors',
    Dimensions: [{ Name: 'FunctionName', Value: { Ref: detectionsId } }],
    Statistic: 'Sum',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    TreatMissingData: 'notBreaching',
  },
  DetectionErrors: {
    Namespace: 'OktaLogPipeline',
    MetricName: 'DetectionErrors',
    Dimensions: Match.absent(),
    Statistic: 'Sum',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    TreatMissingData: 'notBreaching',
  },
  DetectionsDeadLetters: {
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } }],
    Statistic: 'Maximum',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 1,
    TreatMissingData: 'notBreaching',
  },
  // Firehose recommends alarming on DataFreshness beyond the buffering limit, at most 15 minutes:
  // https://docs.aws.amazon.com/firehose/latest/dev/firehose-cloudwatch-metrics-best-practices.html
  ArchiveDeliveryDelayed: {
    Namespace: 'AWS/Firehose',
    MetricName: 'DeliveryToS3.DataFreshness',
    Dimensions: deliveryStream,
    Statistic: 'Maximum',
    Period: 300,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 900,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    TreatMissingData: 'notBreaching',
  },
  ArchiveDeliveryFailed: {
    Namespace: 'AWS/Firehose',
    MetricName: 'DeliveryToS3.Success',
    Dimensions: deliveryStream,
    Statistic: 'Minimum',
    ComparisonOperator: 'LessThanThreshold',
    Threshold: 1,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 2,
    TreatMissingData: 'notBreaching',
  },
  ArchiveReadBehind: {
    Namespace: 'AWS/Firehose',
    MetricName: 'KinesisMillisBehindLatest',
    Dimensions: deliveryStream,
    Statistic: 'Maximum',
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    Threshold: 3_600_000,
    EvaluationPeriods: 3,
    DatapointsToAlarm: 3,
    TreatMissingData: 'notBreaching',
  },
};

describe('alarms', () => {
  it.each(Object.entries(expected))('%s is defined as documented', (name, properties) => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `OktaLogPipeline-${name}`,
      AlarmDescription: Match.stringLikeRegexp(
        '^okta-log-pipeline: .+\\. First check: .+\\. Runbook: https://github\\.com/okta-log-pipeline/okta-log-pipeline/blob/main/docs/ALARMS\\.md#[a-z-]+$',
      ),
      ...properties,
    });
  });

  it('are exactly the documented set', () => {
    const names = Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.AlarmName as string);
    expect(names.sort()).toEqual(
      Object.keys(expected)
        .map((name) => `OktaLogPipeline-${name}`)
        .sort(),
    );
  });

  it('all page the on-call topic when they fire and when they clear', () => {
    const alarms = Object.values(template.findResources('AWS::CloudWatch::Alarm'));
    expect(alarms.length).toBeGreaterThan(0);
    for (const alarm of alarms) {
      expect({ name: alarm.Properties.AlarmName, actions: alarm.Properties.AlarmActions, ok: alarm.Properties.OKActions }).toEqual({
        name: alarm.Properties.AlarmName,
        actions: [{ Ref: onCallTopicId }],
        ok: [{ Ref: onCallTopicId }],
      });
    }
  });

  it("leave out the archive's alarms, and only those, with -c archive=false", () => {
    const without = synthPipeline({ archive: 'false' }).template;
    const names = Object.values(without.findResources('AWS::CloudWatch::Alarm')).map((alarm) => alarm.Properties.AlarmName as string);
    expect(names.sort()).toEqual(
      Object.keys(expected)
        .filter((name) => !name.startsWith('Archive'))
        .map((name) => `OktaLogPipeline-${name}`)
        .sort(),
    );
  });

  it('link to the runbook at runbookBaseUrl, and the per-source ones say the notification names the org', () => {
    const custom = synthPipeline({ runbookBaseUrl: 'https://wiki.example.com/okta-log-pipeline/alarms' }).template;
    for (const alarm of Object.values(custom.findResources('AWS::CloudWatch::Alarm'))) {
      const description = alarm.Properties.AlarmDescription as string;
      expect(description).toMatch(/ Runbook: https:\/\/wiki\.example\.com\/okta-log-pipeline\/alarms#[a-z-]+$/);
      const perSource = JSON.stringify(alarm.Properties.Metrics ?? '').includes('GROUP BY SourceId');
      expect(`${alarm.Properties.AlarmName}: ${description.includes('its SourceId in this notification names the org')}`).toBe(
        `${alarm.Properties.AlarmName}: ${perSource}`,
      );
    }
  });

  it('include the one docs/ALARMS.md forces into ALARM to verify paging, an alarm that pages the on-call topic', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/ALARMS.md'), 'utf8');
    const command = /aws cloudwatch set-alarm-state --alarm-name (\S+) \\\n\s+--state-value ALARM --state-reason test/.exec(doc);
    expect(command).not.toBeNull();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: command![1],
      AlarmActions: [{ Ref: onCallTopicId }],
      OKActions: [{ Ref: onCallTopicId }],
    });
  });

  it('link to runbook entries that exist in docs/ALARMS.md', () => {
    const doc = fs.readFileSync(path.resolve(__dirname, '../../docs/ALARMS.md'), 'utf8');
    const headings = new Set(
      [...doc.matchAll(/^#{2,4} (.+)$/gm)].map((m) =>
        m[1]!
          .trim()
          .toLowerCase()
          .replace(/[^a-z0-9 -]/g, '')
          .replace(/ /g, '-'),
      ),
    );
    for (const alarm of Object.values(template.findResources('AWS::CloudWatch::Alarm'))) {
      const anchor = /#([a-z-]+)$/.exec(alarm.Properties.AlarmDescription as string)![1]!;
      expect(`${alarm.Properties.AlarmName} -> ${headings.has(anchor) ? anchor : 'missing'}`).toBe(
        `${alarm.Properties.AlarmName} -> ${anchor}`,
      );
    }
  });
});

describe('the dashboard', () => {
  const dashboardText = (): string => {
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(dashboards).toHaveLength(1);
    // The body is a Fn::Join of JSON text and references; the literal parts hold the queries.
    const body = dashboards[0]!.Properties.DashboardBody as { 'Fn::Join': [string, unknown[]] };
    return body['Fn::Join'][1].filter((part): part is string => typeof part === 'string').join('');
  };

  /** The Metrics Insights query of every alarm that pages per source, as synthesised. */
  const perSourceAlarmQueries = (): string[] =>
    Object.values(template.findResources('AWS::CloudWatch::Alarm')).flatMap((alarm) =>
      ((alarm.Properties.Metrics ?? []) as Array<{ Expression?: string }>).flatMap((metric) =>
        metric.Expression?.includes('GROUP BY SourceId') === true ? [metric.Expression] : [],
      ),
    );

  it('graphs every metric a per-source alarm reads, with the alarm’s own Metrics Insights GROUP BY SourceId query', () => {
    const text = dashboardText();
    const queries = perSourceAlarmQueries();
    expect(queries.sort()).toEqual(
      [
        perSource('MAX', 'DropOffBreached'),
        perSource('SUM', 'AuthFailures'),
        perSource('SUM', 'PagingLoops'),
        perSource('SUM', 'EventsInvalid'),
      ].sort(),
    );
    for (const query of queries) expect(text).toContain(JSON.stringify(query));
  });

  it('lists, per source, every failure count a per-source alarm sums, in the errors table of the puller log lines', () => {
    const summed = perSourceAlarmQueries().flatMap((query) => [...query.matchAll(/^SELECT SUM\((\w+)\)/g)].map((match) => match[1]));
    expect(summed.sort()).toEqual(['AuthFailures', 'EventsInvalid', 'PagingLoops']);
    const table = dashboardText().match(/stats [^"]*sum\(PullErrors\)[^"]* by SourceId/)?.[0] ?? '';
    for (const metric of summed) expect(table).toContain(`sum(${metric})`);
  });

  it('reads every per-source value that is no longer a per-source metric from the puller log lines (Logs Insights), never from a per-source metric', () => {
    const text = dashboardText();
    for (const metric of ['EventsDelivered', 'PagesFetched', 'LagSeconds', 'MinutesSinceLastEvent', 'PullErrors', 'RateLimited']) {
      expect(text).not.toContain(JSON.stringify(perSource('SUM', metric)));
      expect(text).not.toContain(JSON.stringify(perSource('MAX', metric)));
      expect(text).toMatch(
        new RegExp(
          `SOURCE '[^']*'[^"]*\\| filter ispresent\\(SourceId\\) and \\(?ispresent\\(DropOffBreached\\)[^"]*\\(${metric}\\)[^"]* by SourceId`,
        ),
      );
    }
  });

  it("queries only fields that the puller's per-source and quarantine lines carry", () => {
    const fields = new Set(
      [...dashboardText().matchAll(/\b(?:ispresent|sum|max|min|avg|latest)\((\w+)\)|\bby (\w+)/g)].map((match) => match[1] ?? match[2]),
    );
    // The lines as runPuller writes them (its `Outcome` property is pinned in test/puller/run-puller.test.ts).
    const metrics = computeSourceMetrics(
      { pages: 1, delivered: 1, invalid: 0, rateLimitWaits: 0, failed: false, authFailed: false },
      {},
      60,
      0,
    );
    const written = new Set([
      ...Object.keys(sourceMetricsDocument('acme', metrics, 0, { Outcome: 'caught-up' })),
      ...Object.keys(quarantineMetricsDocument('acme', 1, 0)),
    ]);
    expect(fields.size).toBeGreaterThan(5);
    expect([...fields].filter((field) => !written.has(field))).toEqual([]);
  });

  it('sums quarantined events per source from the lines that count them as they are written, which the end-of-run line does not repeat', () => {
    expect(dashboardText()).toMatch(
      /\| filter ispresent\(SourceId\) and \(ispresent\(DropOffBreached\) or ispresent\(EventsInvalid\)\)[^"]*sum\(EventsInvalid\)[^"]* by SourceId/,
    );
  });
});
