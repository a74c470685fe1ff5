import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { Archive } from './archive';
import type { PipelineConfig } from './config';
import { CursorTable } from './cursor-table';
import { Detections } from './detections';
import { EventStream } from './event-stream';
import { OnCallTopic } from './on-call-topic';
import { alarmNamePrefix, PipelineAlarms } from './pipeline-alarms';
import { PipelineDashboard } from './pipeline-dashboard';
import { Puller } from './puller';
import { QuarantineBucket } from './quarantine-bucket';

export interface OktaLogPipelineStackProps extends StackProps {
  readonly config: PipelineConfig;
}

/**
 * Names of the stack outputs; `okta-log-pipeline sources` reads them (DescribeStacks) to find
 * the secret prefix, the cursor table, the stream and the topics of a deployment.
 */
export const STACK_OUTPUTS = {
  sourceSecretPrefix: 'SourceSecretPrefix',
  cursorTableName: 'CursorTableName',
  streamName: 'StreamName',
  streamArn: 'StreamArn',
  quarantineBucketName: 'QuarantineBucketName',
  onCallTopicArn: 'OnCallTopicArn',
  alertsTopicArn: 'AlertsTopicArn',
  pullerFunctionName: 'PullerFunctionName',
  detectionStateTableName: 'DetectionStateTableName',
  archiveBucketName: 'ArchiveBucketName',
  archiveDatabaseName: 'ArchiveDatabaseName',
  archiveWorkGroupName: 'ArchiveWorkGroupName',
} as const;

/** The whole pipeline: puller, stream, cursors, quarantine, detections, archive, alarms and dashboard. */
export class OktaLogPipelineStack extends Stack {
  readonly puller: Puller;
  readonly detections: Detections;
  readonly alarms: PipelineAlarms;
  /** Undefined with `-c archive=false`. */
  readonly archive: Archive | undefined;

  constructor(scope: Construct, id: string, props: OktaLogPipelineStackProps) {
    super(scope, id, props);
    const { config } = props;

    const events = new EventStream(this, 'Events', {
      mode: config.streamMode,
      shardCount: config.streamShardCount,
      retention: Duration.hours(config.streamRetentionHours),
    });
    const cursors = new CursorTable(this, 'Cursors');
    const quarantine = new QuarantineBucket(this, 'Quarantine', {
      expiration: Duration.days(config.quarantineExpirationDays),
    });
    const onCall = new OnCallTopic(this, 'OnCall', {
      alarmNamePrefix: alarmNamePrefix(this),
      email: config.alarmEmail,
      httpsEndpoint: config.alarmHttpsEndpoint,
    });

    this.puller = new Puller(this, 'Puller', {
      stream: events.stream,
      cursorTable: cursors.table,
      quarantineBucket: quarantine.bucket,
      sourceSecretPrefix: config.sourceSecretPrefix,
      memorySizeMb: config.pullerMemoryMb,
      timeout: Duration.seconds(config.pullerTimeoutSeconds),
      runBudget: Duration.seconds(config.runBudgetSeconds),
      rateLimitReservePercent: config.rateLimitReservePercent,
      shards: config.pullerShards,
      logRetention: config.logRetentionDays,
      logLevel: config.logLevel,
    });
    this.detections = new Detections(this, 'Detections', {
      stream: events.stream,
      alertsEmail: config.alertsEmail,
      logRetention: config.logRetentionDays,
      logLevel: config.logLevel,
    });

    this.archive = config.archive
      ? new Archive(this, 'Archive', {
          stream: events.stream,
          retention: Duration.days(config.archiveRetentionDays),
          logRetention: config.logRetentionDays,
        })
      : undefined;

    this.alarms = new PipelineAlarms(this, 'Alarms', {
      onCallTopic: onCall.topic,
      runbookBaseUrl: config.runbookBaseUrl,
      puller: this.puller,
      stream: events.stream,
      detections: this.detections,
      archive: this.archive,
    });
    new PipelineDashboard(this, 'Dashboard', {
      runbookBaseUrl: config.runbookBaseUrl,
      puller: this.puller,
      stream: events.stream,
      detections: this.detections,
      alarms: this.alarms.alarms,
    });

    const output = (id: string, value: string, description: string) => new CfnOutput(this, id, { value, description });
    output(STACK_OUTPUTS.sourceSecretPrefix, this.puller.sourceSecretPrefix, 'Create one secret named <prefix><sourceId> per Okta org');
    output(STACK_OUTPUTS.cursorTableName, cursors.table.tableName, 'DynamoDB table of per-source cursors');
    output(STACK_OUTPUTS.streamName, events.stream.streamName, 'Kinesis stream of normalised Okta events');
    output(STACK_OUTPUTS.streamArn, events.stream.streamArn, 'Kinesis stream of normalised Okta events');
    output(STACK_OUTPUTS.quarantineBucketName, quarantine.bucket.bucketName, 'S3 bucket of events that failed validation');
    output(STACK_OUTPUTS.onCallTopicArn, onCall.topic.topicArn, 'SNS topic every alarm notifies');
    output(STACK_OUTPUTS.alertsTopicArn, this.detections.alertsTopic.topicArn, 'SNS topic of detection alerts (JSON)');
    output(STACK_OUTPUTS.pullerFunctionName, this.puller.function.functionName, 'The puller Lambda');
    output(STACK_OUTPUTS.detectionStateTableName, this.detections.stateTable.tableName, 'DynamoDB table of detection state');
    if (this.archive !== undefined) {
      output(
        STACK_OUTPUTS.archiveBucketName,
        this.archive.bucket.bucketName,
        'S3 bucket of every delivered record (gzip NDJSON by event date)',
      );
      output(STACK_OUTPUTS.archiveDatabaseName, this.archive.databaseName, `Glue database of the archive table ${this.archive.tableName}`);
      output(STACK_OUTPUTS.archiveWorkGroupName, this.archive.workGroupName, 'Athena workgroup with the saved investigation queries');
    }
  }
}
