import { Duration, Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  Stats,
  TextWidget,
  type IAlarm,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { globalMetric, perSourceQuery } from './metrics';

export interface PipelineDashboardProps {
  readonly puller: IFunction;
  readonly stream: IStream;
  readonly detections: IFunction;
  readonly detectionsDeadLetterQueue: IQueue;
  readonly alarms: readonly IAlarm[];
  /** Where docs/ALARMS.md is published; the dashboard links to it. */
  readonly runbookBaseUrl: string;
}

const MINUTE = Duration.minutes(1);
const WIDTH = 8;
const HEIGHT = 6;

/**
 * One CloudWatch dashboard: per-source delivery, lag, errors and rate-limit waits (Metrics
 * Insights GROUP BY SourceId, so new sources appear by themselves), the Lambdas, the stream,
 * the detections, and the state of every alarm.
 */
export class PipelineDashboard extends Construct {
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: PipelineDashboardProps) {
    super(scope, id);
    const graph = (title: string, left: IMetric[]) =>
      new GraphWidget({ title, left, width: WIDTH, height: HEIGHT });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new TextWidget({
            markdown:
              `## Okta System Log pipeline\nPer-source graphs list every source that emitted metrics in the period. [Alarm runbooks](${props.runbookBaseUrl}#runbooks).`,
            width: 24,
            height: 2,
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 })],
        [
          graph('Events delivered per source', [perSourceQuery('SUM', 'EventsDelivered', MINUTE, '')]),
          graph('Lag per source (seconds behind Okta)', [perSourceQuery('MAX', 'LagSeconds', MINUTE, '')]),
          graph('Minutes since last event per source', [perSourceQuery('MAX', 'MinutesSinceLastEvent', MINUTE, '')]),
        ],
        [
          graph('Pull errors per source', [perSourceQuery('SUM', 'PullErrors', MINUTE, '')]),
          graph('Auth failures per source', [perSourceQuery('SUM', 'AuthFailures', MINUTE, '')]),
          graph('Rate-limit waits per source', [perSourceQuery('SUM', 'RateLimited', MINUTE, '')]),
        ],
        [
          graph('Quarantined (invalid) events per source', [perSourceQuery('SUM', 'EventsInvalid', MINUTE, '')]),
          graph('Sources', [
            // Summed: with pullerShards > 1 each shard's run reports only its own part of the sources.
            globalMetric('SourcesPulled', Stats.SUM, MINUTE).with({ label: 'Sources pulled' }),
            globalMetric('SourceConfigErrors', Stats.SUM, MINUTE).with({ label: 'Invalid source secrets' }),
          ]),
          graph('Puller', [
            props.puller.metricInvocations({ statistic: Stats.SUM, period: MINUTE }),
            props.puller.metricErrors({ statistic: Stats.SUM, period: MINUTE }),
            props.puller.metricThrottles({ statistic: Stats.SUM, period: MINUTE }),
          ]),
        ],
        [
          graph('Stream writes', [
            props.stream.metricIncomingRecords({ statistic: Stats.SUM, period: MINUTE }),
            props.stream.metricPutRecordsThrottledRecords({ statistic: Stats.SUM, period: MINUTE }),
          ]),
          graph('Detections', [
            globalMetric('AlertsRaised', Stats.SUM, MINUTE).with({ label: 'Alerts raised' }),
            globalMetric('DetectionErrors', Stats.SUM, MINUTE).with({ label: 'Detection errors' }),
            props.detections.metricErrors({ statistic: Stats.SUM, period: MINUTE }),
            props.detectionsDeadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: MINUTE, statistic: Stats.MAXIMUM }),
          ]),
          graph('Detections iterator age (ms)', [
            props.detections.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: MINUTE }),
          ]),
        ],
      ],
    });
  }
}
