/**
 * The detections Lambda: Kinesis records of the pipeline's stream → the built-in rules, with their
 * state in DynamoDB → alerts on the alerts SNS topic. Thin: configuration and clients here, the
 * work in `runDetectionBatch`.
 *
 * Failures: a record that can never be judged (not JSON, no event time) is logged, counted in
 * `DetectionErrors` and skipped, since retrying it would block the shard forever. A failure that
 * may pass (state table, publishing a new alert) reports that record in `batchItemFailures`, and
 * Lambda redelivers from it; the engine's uuid bookkeeping makes the redelivery count nothing
 * twice and re-emit the alert that was not published.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { Context, KinesisStreamBatchResponse, KinesisStreamEvent } from 'aws-lambda';
import { systemClock } from '../core/clock';
import { DetectionEngine } from '../core/detections/engine';
import { runDetectionBatch } from '../core/detections/run-batch';
import { detectionMetricsDocument } from '../core/metrics/detection-metrics';
import { SnsAlertPublisher } from '../adapters/aws/alert-publisher';
import { DynamoDbStateStore } from '../adapters/aws/detection-state-store';
import { AWS_API_HTTP, awsHttpHandler } from '../adapters/aws/http-handler';
import { lambdaTelemetry } from '../adapters/aws/lambda-telemetry';

/** A required environment variable is missing: the stack did not configure the function. */
export class DetectionsConfigError extends Error {
  constructor(variable: string) {
    super(`detections Lambda: environment variable ${variable} is not set; the stack must pass it`);
    this.name = 'DetectionsConfigError';
  }
}

function required(variable: string): string {
  const value = process.env[variable];
  if (value === undefined || value === '') throw new DetectionsConfigError(variable);
  return value;
}

const telemetry = lambdaTelemetry({ serviceName: 'okta-log-pipeline-detections' });
const { logger } = telemetry;

let dependencies: { engine: DetectionEngine; publisher: SnsAlertPublisher } | undefined;

/** Built once per container, on first use, so that a missing variable fails the invocation loudly. */
function deps(): { engine: DetectionEngine; publisher: SnsAlertPublisher } {
  dependencies ??= {
    engine: new DetectionEngine({
      state: new DynamoDbStateStore(new DynamoDBClient({ requestHandler: awsHttpHandler(AWS_API_HTTP) }), required('STATE_TABLE_NAME')),
    }),
    publisher: new SnsAlertPublisher(new SNSClient({ requestHandler: awsHttpHandler(AWS_API_HTTP) }), required('ALERTS_TOPIC_ARN')),
  };
  return dependencies;
}

export async function handler(event: KinesisStreamEvent, context: Context): Promise<KinesisStreamBatchResponse> {
  telemetry.startInvocation(context);
  const report = await runDetectionBatch(
    deps(),
    event.Records.map((record) => ({
      id: record.kinesis.sequenceNumber,
      data: Buffer.from(record.kinesis.data, 'base64').toString('utf8'),
    })),
  );
  for (const { id, reason } of report.skipped) logger.warn('record skipped', { sequenceNumber: id, reason });
  for (const { alertId, error } of report.failedUpdates) logger.error('alert update not published', { alertId, error });
  if (report.retryFrom) {
    logger.error('batch stopped; Lambda will redeliver from this record', {
      sequenceNumber: report.retryFrom.id,
      error: report.retryFrom.error,
    });
  }
  logger.info('batch judged', {
    records: event.Records.length,
    processed: report.processed,
    alertsRaised: report.alertsRaised,
    alertsUpdated: report.alertsUpdated,
  });
  telemetry.emitMetrics(detectionMetricsDocument(report, systemClock.now()));
  return { batchItemFailures: report.retryFrom ? [{ itemIdentifier: report.retryFrom.id }] : [] };
}
