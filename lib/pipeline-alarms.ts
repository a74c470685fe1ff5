import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Stats, TreatMissingData, type IMetric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import type { Detections } from './detections';
import type { Puller } from './puller';

export interface PipelineAlarmsProps {
  /** Every alarm notifies this topic on ALARM and on OK. */
  readonly onCallTopic: ITopic;
  /** Where docs/ALARMS.md is published; descriptions link to `<url>#<anchor>`. */
  readonly runbookBaseUrl: string;
  readonly puller: Puller;
  readonly stream: IStream;
  readonly detections: Detections;
  /** The archive's Firehose stream; undefined when the archive is turned off. */
  readonly archive?: DeliveryMetrics;
}

/** The metrics of a Firehose delivery stream (the Archive construct). */
export interface DeliveryMetrics {
  metric(metricName: string, props: MetricOptions): IMetric;
}

/** One alarm: what it watches and when it fires. The runbook entry is docs/ALARMS.md#<anchor>. */
interface AlarmDefinition {
  readonly id: string;
  readonly anchor: string;
  readonly summary: string;
  /** What on-call looks at first, read from the notification on a phone. */
  readonly firstCheck: string;
  /** A Metrics Insights GROUP BY SourceId alarm: each Okta org is a contributor of its own. */
  readonly perSource?: boolean;
  readonly metric: IMetric;
  /** Default: the alarm fires at the threshold or above. */
  readonly comparisonOperator?: ComparisonOperator;
  readonly threshold: number;
  readonly evaluationPeriods: number;
  readonly datapointsToAlarm: number;
  /** Default: missing data is not breaching (see `PipelineAlarms`). */
  readonly treatMissingData?: TreatMissingData;
}

const FIVE_MINUTES = Duration.minutes(5);

/** Every alarm of the stack is named `<prefix><Name>`; the on-call topic admits only these. */
export function alarmNamePrefix(scope: Construct): string {
  return `${Stack.of(scope).stackName}-`;
}

/**
 * What the notification says: the problem, whose it is (per-source alarms), the first thing to
 * check, and the runbook entry as a full URL that opens from a phone.
 */
function alarmDescription(definition: AlarmDefinition, runbookBaseUrl: string): string {
  const whose = definition.perSource ? ' One Okta org per contributor: its SourceId in this notification names the org.' : '';
  return `okta-log-pipeline: ${definition.summary}.${whose} First check: ${definition.firstCheck}. Runbook: ${runbookBaseUrl}#${definition.anchor}`;
}

/**
 * Every alarm of the pipeline, and the one place where they are wired to the on-call topic.
 *
 * Missing data: the alarm on the puller's invocations treats it as breaching, because silence is
 * exactly what it exists to catch. The others watch metrics that exist only while something
 * runs (Lambda Errors, EMF per source, SQS depth); for them silence means "nothing ran", which
 * the invocations alarm already pages on, so they treat it as not breaching instead of paging
 * twice for one cause. The per-source alarms are Metrics Insights GROUP BY SourceId queries:
 * each source is a contributor with its own ALARM/OK state and its own notification.
 */
export class PipelineAlarms extends Construct {
  readonly alarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: PipelineAlarmsProps) {
    super(scope, id);
    const definitions: AlarmDefinition[] = [
      {
        id: 'SourceDropOff',
        anchor: 'source-drop-off',
        summary: 'a source has delivered no events for longer than its dropOffMinutes',
        firstCheck:
          "`npx okta-log-pipeline sources status <SourceId>` for its last error, then whether the org's System Log in the Okta admin console has recent events",
        perSource: true,
        // The puller computes DropOffBreached (0/1) against each source's own interval, so the
        // alarm needs no per-source threshold; MAX over 5 minutes tolerates one skipped run.
        metric: props.puller.metricDropOffBreached({ period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      {
        id: 'PullerNotRunning',
        anchor: 'puller-not-running',
        summary: 'the puller was not invoked in the last 5 minutes (schedule disabled, throttled, or deleted)',
        firstCheck: "the stack's EventBridge rule is ENABLED and the puller's reserved concurrency is not 0",
        metric: props.puller.function.metricInvocations({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        // A minimum-count alarm that treated silence as OK would never page.
        treatMissingData: TreatMissingData.BREACHING,
      },
      {
        id: 'PullerErrors',
        anchor: 'puller-errors',
        summary: 'puller invocations failed (crash or timeout) in 2 of the last 3 five-minute periods',
        firstCheck: "the puller's log group for ERROR lines and 'Task timed out'",
        // pullSource never throws for one source's failure, so a Lambda error is the whole run
        // failing; 2 of 3 periods skips a single transient blip.
        metric: props.puller.function.metricErrors({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      },
      {
        id: 'SourceAuthFailures',
        anchor: 'source-auth-failures',
        summary: "Okta rejected a source's credential (401/403): token revoked or expired, key removed, or scope or admin role lost",
        firstCheck: "`npx okta-log-pipeline sources status <SourceId>` for Okta's error code (E0000011: token invalid or revoked)",
        perSource: true,
        // One contributor per source, so the page names the org whose credential failed.
        metric: props.puller.metricAuthFailures({ period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      {
        id: 'SourcePagingLoop',
        anchor: 'source-paging-loop',
        summary: "a source's Okta paging looped (a full page's next link repeated a URL already fetched), so the source is stopped",
        firstCheck:
          "`npx okta-log-pipeline sources status <SourceId>` for the looping URL, then whatever proxy or custom domain rewrites the org's Link headers",
        perSource: true,
        // Followed, such a loop re-delivers the same events all run long and keeps the drop-off
        // alarm quiet; the puller stops the source instead, and this is the page that says so.
        metric: props.puller.metricPagingLoops({ period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      {
        id: 'SourceConfigErrors',
        anchor: 'source-config-errors',
        summary: 'a source secret under the prefix does not parse or fails validation, so it is not pulled',
        firstCheck: "the puller's log line that names the secret and its wrong field",
        metric: props.puller.metricRunTotal('SourceConfigErrors', { statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      {
        id: 'QuarantinedEvents',
        anchor: 'quarantined-events',
        summary: 'events of a source failed schema validation and went to the quarantine bucket instead of the stream',
        firstCheck: "the newest objects under <SourceId>/ in the quarantine bucket: each holds the validator's errors",
        perSource: true,
        // Every quarantined event is one the stream's consumers will not see until someone acts.
        metric: props.puller.metricEventsInvalid({ period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      {
        id: 'StreamWriteThrottled',
        anchor: 'stream-write-throttled',
        summary: 'Kinesis throttled PutRecords in each of the last three five-minute periods',
        firstCheck: "the dashboard's Stream writes and per-source Lag: is a large org backfilling?",
        // The sink retries throttled entries and the cursor waits for them, so a burst only delays
        // events; fifteen minutes of throttling means the stream is too small for the load.
        metric: props.stream.metricPutRecordsThrottledRecords({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
      },
      {
        id: 'DetectionsIteratorAge',
        anchor: 'detections-iterator-age',
        summary: 'the detections lag more than 15 minutes behind the stream for 10 minutes',
        firstCheck: "the detections' errors and duration on the dashboard, and throttling of the state table",
        // Fifteen minutes is the shortest detection window (brute force): beyond it, alerts
        // arrive after the window they describe has closed.
        metric: props.detections.metricIteratorAge({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
        threshold: Duration.minutes(15).toMilliseconds(),
        evaluationPeriods: 2,
        datapointsToAlarm: 2,
      },
      {
        id: 'DetectionsFunctionErrors',
        anchor: 'detections-errors',
        summary: 'detections invocations failed in 2 of the last 3 five-minute periods',
        firstCheck: "the detections' log group for the error and the record's uuid",
        metric: props.detections.metricFunctionErrors({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
      },
      {
        id: 'DetectionErrors',
        anchor: 'detections-errors',
        // With reportBatchItemFailures a failing record does not fail the invocation, so the
        // handler's own DetectionErrors count is what shows failures the Lambda Errors metric misses.
        summary: 'the detections reported records they could not process (DetectionErrors)',
        firstCheck: "the detections' log group for the error and the record's uuid",
        metric: props.detections.metricDetectionErrors({ statistic: Stats.SUM, period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      {
        id: 'DetectionsDeadLetters',
        anchor: 'detections-dead-letters',
        summary: 'stream batches the detections gave up on are waiting in the dead-letter queue',
        firstCheck: "the dead-letter queue's message (aws sqs receive-message): the shard and sequence numbers of the batch",
        metric: props.detections.metricDeadLetters({ statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
      },
      ...(props.archive === undefined ? [] : archiveAlarms(props.archive)),
    ];

    const prefix = alarmNamePrefix(this);
    const notify = new SnsAction(props.onCallTopic);
    this.alarms = definitions.map((definition) => {
      const alarm = new Alarm(this, definition.id, {
        alarmName: `${prefix}${definition.id}`,
        alarmDescription: alarmDescription(definition, props.runbookBaseUrl),
        metric: definition.metric,
        comparisonOperator: definition.comparisonOperator ?? ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        threshold: definition.threshold,
        evaluationPeriods: definition.evaluationPeriods,
        datapointsToAlarm: definition.datapointsToAlarm,
        treatMissingData: definition.treatMissingData ?? TreatMissingData.NOT_BREACHING,
      });
      // The one place alarms meet the on-call topic: OK too, so a page is followed by its all-clear.
      alarm.addAlarmAction(notify);
      alarm.addOkAction(notify);
      return alarm;
    });
  }
}

/**
 * The archive's delivery: Firehose reads the stream and writes S3, retrying by itself, so a
 * failure shows as records that wait. Firehose recommends alarming when DeliveryToS3.DataFreshness
 * exceeds the buffering limit, at most 15 minutes
 * (https://docs.aws.amazon.com/firehose/latest/dev/firehose-cloudwatch-metrics-best-practices.html).
 * The stream keeps records 24 hours: a reader that stays far behind would lose them.
 */
function archiveAlarms(deliveryStream: DeliveryMetrics): AlarmDefinition[] {
  return [
    {
      id: 'ArchiveDeliveryDelayed',
      anchor: 'archive-delivery-delayed',
      summary: "the oldest record waiting in the archive's Firehose stream is more than 15 minutes old, for 10 minutes",
      firstCheck: "the delivery stream's error log group (stream S3Delivery) for S3 or partitioning errors",
      metric: deliveryStream.metric('DeliveryToS3.DataFreshness', { statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
      threshold: Duration.minutes(15).toSeconds(),
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
    },
    {
      id: 'ArchiveDeliveryFailed',
      anchor: 'archive-delivery-failed',
      // The share of successful S3 puts; below 1 means Firehose is retrying writes to the bucket.
      summary: 'Firehose failed to write archive objects to S3 in 2 of the last 3 five-minute periods',
      firstCheck: "the delivery stream's error log group, and objects under errors/ in the archive bucket",
      metric: deliveryStream.metric('DeliveryToS3.Success', { statistic: Stats.MINIMUM, period: FIVE_MINUTES }),
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
    },
    {
      id: 'ArchiveReadBehind',
      anchor: 'archive-read-behind',
      summary: "the archive's Firehose stream reads more than an hour behind the Kinesis stream, for 15 minutes",
      firstCheck: "that the delivery stream's role can still read the Kinesis stream; records older than its retention are lost from it",
      metric: deliveryStream.metric('KinesisMillisBehindLatest', { statistic: Stats.MAXIMUM, period: FIVE_MINUTES }),
      threshold: Duration.hours(1).toMilliseconds(),
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
    },
  ];
}
