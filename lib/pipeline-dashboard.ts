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
import { Construct } from 'constructs';
import type { PullerRunMetricName } from '../lambdas/core/metrics/metric-names';
import type { Detections } from './detections';
import type { Puller } from './puller';

export interface PipelineDashboardProps {
  /** Its metrics, and its log group, where its per-source log lines (its EMF documents) are written. */
  readonly puller: Puller;
  readonly stream: IStream;
  readonly detections: Detections;
  readonly alarms: readonly IAlarm[];
  /** Where docs/ALARMS.md is published; the dashboard links to it. */
  readonly runbookBaseUrl: string;
}

const MINUTE = Duration.minutes(1);
/** Most graphs: a count summed per minute. */
const SUM_PER_MINUTE = { statistic: Stats.SUM, period: MINUTE };
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
export const PULLER_SOURCE_AND_QUARANTINE_LINES = [
  'filter ispresent(SourceId) and (ispresent(DropOffBreached) or ispresent(EventsInvalid))',
];

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
    const graph = (title: string, left: IMetric[], width = WIDTH) => new GraphWidget({ title, left, width, height: HEIGHT });
    // One row holds a graph for each metric a per-source alarm reads.
    const perSourceWidth = 6;
    /** A deployment total of the puller's runs, summed per minute unless `statistic` says otherwise. */
    const runTotal = (name: PullerRunMetricName, label: string, statistic: string = Stats.SUM) =>
      props.puller.metricRunTotal(name, { statistic, period: MINUTE, label });
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: Stack.of(this).stackName,
      defaultInterval: Duration.hours(3),
      widgets: [
        [
          new TextWidget({
            markdown: `## Okta System Log pipeline\nPer-source tables read the puller's log lines; per-source graphs list every source that emitted the metric in the period. [Alarm runbooks](${props.runbookBaseUrl}#runbooks).`,
            width: 24,
            height: 2,
          }),
        ],
        [new AlarmStatusWidget({ title: 'Alarms', alarms: [...props.alarms], width: 24, height: 3 })],
        [
          new LogQueryWidget({
            title: 'Per source: delivery and lag (from the puller log lines, over the dashboard period)',
            logGroupNames: [props.puller.logGroup.logGroupName],
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
            logGroupNames: [props.puller.logGroup.logGroupName],
            view: LogQueryVisualizationType.TABLE,
            queryLines: [
              ...PULLER_SOURCE_AND_QUARANTINE_LINES,
              'stats sum(PullErrors) as pullErrors, sum(AuthFailures) as authFailures, sum(PagingLoops) as pagingLoops, sum(EventsInvalid) as quarantined, sum(RateLimited) as rateLimitWaits by SourceId',
              'sort pullErrors desc',
            ],
            width: 12,
            height: HEIGHT,
          }),
        ],
        [
          graph('Sources in drop-off (per source)', [props.puller.metricDropOffBreached({ period: MINUTE, label: '' })], perSourceWidth),
          // Emitted only by runs that had one, so a source appears here only while it fails.
          graph(
            'Auth failures per source (runs with one)',
            [props.puller.metricAuthFailures({ period: MINUTE, label: '' })],
            perSourceWidth,
          ),
          graph('Paging loops per source (runs with one)', [props.puller.metricPagingLoops({ period: MINUTE, label: '' })], perSourceWidth),
          graph(
            'Quarantined (invalid) events per source (runs with some)',
            [props.puller.metricEventsInvalid({ period: MINUTE, label: '' })],
            perSourceWidth,
          ),
        ],
        [
          graph('All sources: events and pages', [
            runTotal('EventsDelivered', 'Events delivered'),
            runTotal('EventsInvalid', 'Events quarantined'),
            runTotal('PagesFetched', 'Pages fetched'),
          ]),
          graph('All sources: largest lag (seconds behind Okta)', [runTotal('LagSeconds', 'Largest lag', Stats.MAXIMUM)]),
          graph('All sources: errors and rate-limit waits', [
            runTotal('PullErrors', 'Pull errors'),
            runTotal('AuthFailures', 'Auth failures'),
            runTotal('PagingLoops', 'Paging loops'),
            runTotal('RateLimited', 'Rate-limit waits'),
          ]),
        ],
        [
          graph('Sources', [
            // Summed: with pullerShards > 1 each shard's run reports only its own part of the sources.
            runTotal('SourcesPulled', 'Sources pulled'),
            runTotal('SourceConfigErrors', 'Invalid source secrets'),
          ]),
          graph('Puller', [
            props.puller.function.metricInvocations(SUM_PER_MINUTE),
            props.puller.function.metricErrors(SUM_PER_MINUTE),
            props.puller.function.metricThrottles(SUM_PER_MINUTE),
          ]),
        ],
        [
          graph('Stream writes', [
            props.stream.metricIncomingRecords(SUM_PER_MINUTE),
            props.stream.metricPutRecordsThrottledRecords(SUM_PER_MINUTE),
          ]),
          graph('Detections', [
            props.detections.metricAlertsRaised({ ...SUM_PER_MINUTE, label: 'Alerts raised' }),
            props.detections.metricDetectionErrors({ ...SUM_PER_MINUTE, label: 'Detection errors' }),
            props.detections.metricFunctionErrors(SUM_PER_MINUTE),
            props.detections.metricDeadLetters({ period: MINUTE, statistic: Stats.MAXIMUM }),
          ]),
          graph('Detections iterator age (ms)', [props.detections.metricIteratorAge({ statistic: Stats.MAXIMUM, period: MINUTE })]),
        ],
      ],
    });
  }
}
