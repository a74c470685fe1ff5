import { Duration, Validations } from 'aws-cdk-lib';
import { Stats, type Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { Key } from 'aws-cdk-lib/aws-kms';
import { StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CONTEXT_DEFAULTS, type LogLevel } from './config';
import { globalMetric } from './metrics';
import { PipelineFunction } from './pipeline-function';

/** How the detections Lambda consumes the stream; every bound with the reason for its value. */
export interface DetectionsStreamSettings {
  /** Records per invocation. */
  readonly batchSize: number;
  /** Longest wait to fill a batch. */
  readonly maxBatchingWindow: Duration;
  /** Retries of a failing batch (after bisecting) before its position goes to the DLQ. */
  readonly retryAttempts: number;
  /** Records older than this are skipped (and reported to the DLQ) instead of retried. */
  readonly maxRecordAge: Duration;
}

export const DETECTIONS_STREAM_SETTINGS: DetectionsStreamSettings = {
  // The puller writes up to a few thousand records per minute per org; 500 per invocation
  // keeps the state-table round trips per record low while one invocation stays well under a second.
  batchSize: 500,
  // Alerts should follow the events within seconds; the puller's minute cadence dominates latency anyway.
  maxBatchingWindow: Duration.seconds(5),
  // The handler reports the first failed record (reportBatchItemFailures) and bisection splits
  // the rest, so a transient failure (state-table throttling) clears within a few tries, while a
  // record that fails every time should reach the DLQ quickly instead of stalling its shard.
  retryAttempts: 3,
  // Brute-force and dedup windows are 15-60 minutes: alerting on records older than 6 hours
  // helps nobody, and an unbounded age would let a stuck shard replay a day of events.
  maxRecordAge: Duration.hours(6),
};

const DEFAULT_METRIC_PERIOD = Duration.minutes(5);

export interface DetectionsProps {
  /** The event stream the rules read. */
  readonly stream: IStream;
  /**
   * E-mail address subscribed to the alerts topic.
   * @default - no subscription; subscribe your SIEM or ticketing system to `alertsTopic`
   */
  readonly alertsEmail?: string;
  /**
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
}

/**
 * The built-in Okta detections: a Lambda on the event stream, its state table (thresholds,
 * dedup, last login location; items expire through TTL `expiresAt`), the alerts topic (JSON
 * alerts, separate from on-call), and a dead-letter queue for batches that keep failing.
 */
export class Detections extends Construct {
  readonly function: IFunction;
  readonly stateTable: ITable;
  readonly alertsTopic: ITopic;
  readonly deadLetterQueue: IQueue;

  constructor(scope: Construct, id: string, props: DetectionsProps) {
    super(scope, id);
    const settings = DETECTIONS_STREAM_SETTINGS;

    const stateTable = new Table(this, 'State', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: 'expiresAt',
      // Losing the state resets thresholds and last-login locations: alerts would be missed.
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
    });

    const alertsKey = new Key(this, 'AlertsKey', {
      description: 'Encrypts the okta-log-pipeline detection alerts topic',
      enableKeyRotation: true,
    });
    const alertsTopic = new Topic(this, 'Alerts', {
      displayName: 'okta-log-pipeline detection alerts',
      masterKey: alertsKey,
      enforceSSL: true,
    });
    if (props.alertsEmail !== undefined) {
      alertsTopic.addSubscription(new EmailSubscription(props.alertsEmail));
    }

    // The DLQ receives where a failed batch sits in the stream (shard, sequence numbers), not
    // the records themselves; SQS-managed encryption covers that without another key.
    const deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // Kinesis keeps the records for the stream's retention: 14 days gives time to replay them.
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the detections event source mapping.',
    });

    const pipelineFunction = new PipelineFunction(this, 'Detections', {
      entry: 'lambdas/detections/handler.ts',
      description: 'Runs the built-in Okta detections on the event stream (okta-log-pipeline)',
      memorySizeMb: 256,
      // A 500-record batch with DynamoDB state round trips takes seconds; a minute is headroom
      // for a throttled table, not a budget to fill.
      timeout: Duration.seconds(60),
      logRetention: props.logRetention ?? CONTEXT_DEFAULTS.logRetentionDays,
      environment: {
        STATE_TABLE_NAME: stateTable.tableName,
        ALERTS_TOPIC_ARN: alertsTopic.topicArn,
        POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-detections',
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? CONTEXT_DEFAULTS.logLevel,
      },
    });
    const role = pipelineFunction.role;
    // The state store reads an item and writes it back with a version condition; TTL deletes.
    // grant() with exactly these actions: grantReadWriteData would add scans, queries and deletes.
    stateTable.grant(role, 'dynamodb:GetItem', 'dynamodb:PutItem');
    // Publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt on its key
    // (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html): the topic's grants
    // put them on whatever key the topic has. grants.publish() would grant kms:GenerateDataKey*.
    alertsTopic.grants.actions(role, ['sns:Publish'], { keyActions: ['kms:GenerateDataKey', 'kms:Decrypt'] });

    pipelineFunction.function.addEventSource(
      new KinesisEventSource(props.stream, {
        // Records written before the mapping existed (same deployment) are still examined.
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: settings.batchSize,
        maxBatchingWindow: settings.maxBatchingWindow,
        bisectBatchOnError: true,
        retryAttempts: settings.retryAttempts,
        maxRecordAge: settings.maxRecordAge,
        reportBatchItemFailures: true,
        // One batch per shard at a time keeps each shard's records in order, which the
        // threshold and geo rules rely on.
        parallelizationFactor: 1,
        onFailure: new SqsDlq(deadLetterQueue),
      }),
    );

    this.function = pipelineFunction.function;
    this.stateTable = stateTable;
    this.alertsTopic = alertsTopic;
    this.deadLetterQueue = deadLetterQueue;
  }

  /** Alerts the rules raised (the handler's own metric, without dimensions). @default SUM over 5 minutes */
  metricAlertsRaised(options: MetricOptions = {}): Metric {
    return globalMetric('AlertsRaised', options.statistic ?? Stats.SUM, options.period ?? DEFAULT_METRIC_PERIOD).with(options);
  }

  /**
   * Records the handler could not process. With reportBatchItemFailures a failing record does not
   * fail the invocation, so this shows failures the Lambda Errors metric misses. @default SUM over 5 minutes
   */
  metricDetectionErrors(options: MetricOptions = {}): Metric {
    return globalMetric('DetectionErrors', options.statistic ?? Stats.SUM, options.period ?? DEFAULT_METRIC_PERIOD).with(options);
  }

  /** How far (ms) the event source mapping reads behind the stream. @default MAXIMUM over 5 minutes */
  metricIteratorAge(options: MetricOptions = {}): Metric {
    return this.function.metric('IteratorAge', { statistic: Stats.MAXIMUM, period: DEFAULT_METRIC_PERIOD, ...options });
  }

  /** Failed invocations of the detections function. @default SUM over 5 minutes */
  metricFunctionErrors(options: MetricOptions = {}): Metric {
    return this.function.metricErrors({ statistic: Stats.SUM, period: DEFAULT_METRIC_PERIOD, ...options });
  }

  /** Positions of batches given up on, waiting in the dead-letter queue. @default MAXIMUM over 5 minutes */
  metricDeadLetters(options: MetricOptions = {}): Metric {
    return this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      statistic: Stats.MAXIMUM,
      period: DEFAULT_METRIC_PERIOD,
      ...options,
    });
  }
}
