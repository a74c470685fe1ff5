import { Duration, Stack } from 'aws-cdk-lib';
import {
  AlarmStatusWidget,
  Dashboard,
  GraphWidget,
  LogQueryVisualizationType,
  LogQueryWidget,
  Stats,
  TextWidget,
  type IAlarm,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { globalMetric, perSourceQuery } from './metrics';

export interface PipelineDashboardProps {
  readonly puller: IFunction;
  /** Where the puller's per-source log lines (its EMF documents) are written. */
  readonly pullerLogGroup: ILogGroup;
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
 * The Logs Insights lines that select the puller's per-source log lines: each run writes one JSON
 * line per source (its EMF document) with every per-source value as a field, of which only the
 * alarmed ones are CloudWatch metrics. `SourceId` (capitalised) and `DropOffBreached` are fields of
 * that line only, not of the other log lines that name a source (`sourceId`).
 */
export const PULLER_SOURCE_LINES = ['filter ispresent(SourceId) and ispresent(DropOffBreached)'];

/**
 * The same, plus the lines that count `EventsInvalid`: the puller writes that count in a line of
 * its own as events go to the quarantine (before the write, so that a run that dies afterwards
 * has counted them), never in the end-of-run line.
 */
export const PULLER_SOURCE_AND_QUARANTINE_LINES = ['filter ispresent(SourceId) and (ispresent(DropOffBreached) or ispresent(EventsInvalid))'];

/**
 * One CloudWatch dashboard: the per-source alarmed metrics (Metrics Insights GROUP BY SourceId,
 * so new sources appear by themselves), per-source delivery, lag, errors and rate-limit waits
 * from the puller's log lines (Logs Insights: no per-source metric to pay for), deployment totals,
 * the Lambdas, the stream, the detections, and the state of every alarm.
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
              `## Okta System Log pipeline\nPer-source tables read the puller's log lines; per-source graphs list every source that emitted the metric in the period. [Alarm runbooks](${props.runbookBaseUrl}#runbooks).`,
            width: 24,
            height: 2,
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 })],
        [
          new LogQueryWidget({
            title: 'Per source: delivery and lag (from the puller log lines, over the dashboard period)',
            logGroupNames: [props.pullerLogGroup.logGroupName],
            view: LogQueryVisualizationType.TABLE,
            queryLines: [
              ...PULLER_SOURCE_LINES,
              'stats sum(EventsDelivered) as delivered, sum(PagesFetched) as pages, max(LagSeconds) as maxLagSeconds, latest(MinutesSinceLastEvent) as minutesSinceLastEvent, latest(Outcome) as lastOutcome by SourceId',
              'sort minutesSinceLastEvent desc',
            ],
            width: 12,
            height: HEIGHT,
          }),
          new LogQueryWidget({
            title: 'Per source: errors and rate-limit waits (from the puller log lines, over the dashboard period)',
            logGroupNames: [props.pullerLogGroup.logGroupName],
            view: LogQueryVisualizationType.TABLE,
            queryLines: [
              ...PULLER_SOURCE_AND_QUARANTINE_LINES,
              'stats sum(PullErrors) as pullErrors, sum(AuthFailures) as authFailures, sum(EventsInvalid) as quarantined, sum(RateLimited) as rateLimitWaits by SourceId',
              'sort pullErrors desc',
            ],
            width: 12,
            height: HEIGHT,
          }),
        ],
        [
          graph('Sources in drop-off (per source)', [perSourceQuery('MAX', 'DropOffBreached', MINUTE, '')]),
          // Emitted only by runs that had one, so a source appears here only while it fails.
          graph('Auth failures per source (runs with one)', [perSourceQuery('SUM', 'AuthFailures', MINUTE, '')]),
          graph('Quarantined (invalid) events per source (runs with some)', [perSourceQuery('SUM', 'EventsInvalid', MINUTE, '')]),
        ],
        [
          graph('All sources: events and pages', [
            globalMetric('EventsDelivered', Stats.SUM, MINUTE).with({ label: 'Events delivered' }),
            globalMetric('EventsInvalid', Stats.SUM, MINUTE).with({ label: 'Events quarantined' }),
            globalMetric('PagesFetched', Stats.SUM, MINUTE).with({ label: 'Pages fetched' }),
          ]),
          graph('All sources: largest lag (seconds behind Okta)', [globalMetric('LagSeconds', Stats.MAXIMUM, MINUTE).with({ label: 'Largest lag' })]),
          graph('All sources: errors and rate-limit waits', [
            globalMetric('PullErrors', Stats.SUM, MINUTE).with({ label: 'Pull errors' }),
            globalMetric('AuthFailures', Stats.SUM, MINUTE).with({ label: 'Auth failures' }),
            globalMetric('RateLimited', Stats.SUM, MINUTE).with({ label: 'Rate-limit waits' }),
          ]),
        ],
        [
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
