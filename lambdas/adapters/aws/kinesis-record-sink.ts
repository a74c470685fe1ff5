import { PutRecordsCommand, type KinesisClient, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import type { Clock, RecordSink, SerializedRecord } from '../../core/ports';
import { backoffDelayMs, type BackoffPolicy } from '../../core/backoff';
import { KinesisWriteError, describeAwsError } from './errors';

/**
 * Kinesis' own limits (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_PutRecords.html);
 * not configurable because AWS fixes them.
 */
export const KINESIS_LIMITS = {
  recordsPerPutRecords: 500,
  bytesPerPutRecords: 5 * 1024 * 1024,
  /** Data plus partition key. */
  bytesPerRecord: 1024 * 1024,
  partitionKeyMaxLength: 256,
} as const;

/**
 * Retries of failed entries. Five attempts with waits up to 100, 200, 400, 800 ms ride out a
 * shard's per-second throughput limit (it refills every second) while keeping the worst case
 * (~1.5 s per batch) small against the run's 55-second budget.
 */
export const DEFAULT_KINESIS_BACKOFF: BackoffPolicy = { maxAttempts: 5, baseDelayMs: 100, maxDelayMs: 2000 };

/** Whole-call errors worth another attempt: throttling and Kinesis' or KMS' transient faults. */
const RETRYABLE_ERRORS = new Set([
  'ProvisionedThroughputExceededException',
  'InternalFailure',
  'InternalFailureException',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'KMSThrottlingException',
  'ThrottlingException',
  'LimitExceededException',
]);

export interface KinesisRecordSinkOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  /** Waits between retries go through the clock, so tests run them in virtual time. */
  readonly clock: Clock;
  readonly backoff?: BackoffPolicy;
  /** For the jitter; injectable so a test can pin it. */
  readonly random?: () => number;
}

interface Entry {
  readonly record: SerializedRecord;
  readonly request: PutRecordsRequestEntry;
  readonly bytes: number;
}

/**
 * The stream sink: one Kinesis record per event, partition key = the event's `uuid`, data = the
 * record's JSON. PutRecords batches respect 500 records / 5 MiB; entries that fail (throttling,
 * internal failure) are retried alone with jittered backoff, a bounded number of times.
 */
export class KinesisRecordSink implements RecordSink {
  private readonly backoff: BackoffPolicy;
  private readonly random: () => number;

  constructor(private readonly options: KinesisRecordSinkOptions) {
    this.backoff = options.backoff ?? DEFAULT_KINESIS_BACKOFF;
    this.random = options.random ?? Math.random;
  }

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    const rejected: Array<{ record: SerializedRecord; reason: string }> = [];
    const entries: Entry[] = [];
    for (const record of records) {
      const data = Buffer.from(record.json, 'utf8');
      const partitionKey = record.uuid;
      const bytes = data.length + Buffer.byteLength(partitionKey, 'utf8');
      if (partitionKey.length === 0 || partitionKey.length > KINESIS_LIMITS.partitionKeyMaxLength) {
        rejected.push({
          record,
          reason: `uuid of ${partitionKey.length} characters cannot be a Kinesis partition key (1 to ${KINESIS_LIMITS.partitionKeyMaxLength})`,
        });
      } else if (bytes > KINESIS_LIMITS.bytesPerRecord) {
        rejected.push({
          record,
          reason: `record of ${bytes} bytes exceeds the Kinesis limit of ${KINESIS_LIMITS.bytesPerRecord} bytes per record`,
        });
      } else {
        entries.push({ record, request: { PartitionKey: partitionKey, Data: data }, bytes });
      }
    }
    for (const batch of batches(entries)) await this.putBatch(batch);
    return { rejected };
  }

  private async putBatch(batch: readonly Entry[]): Promise<void> {
    let pending = batch;
    let lastProblem = '';
    for (let attempt = 1; attempt <= this.backoff.maxAttempts; attempt += 1) {
      if (attempt > 1) await this.options.clock.sleep(backoffDelayMs(this.backoff, attempt - 1, this.random));
      try {
        const response = await this.options.client.send(
          new PutRecordsCommand({ StreamName: this.options.streamName, Records: pending.map((entry) => entry.request) }),
        );
        const results = response.Records ?? [];
        if (results.length !== pending.length) {
          throw new KinesisWriteError(
            `stream ${this.options.streamName}: PutRecords answered ${results.length} results for ${pending.length} records`,
            pending.length,
          );
        }
        const failed = pending.filter((_, index) => results[index]?.ErrorCode !== undefined);
        if (failed.length === 0) return;
        const codes = [...new Set(results.map((result) => result.ErrorCode).filter((code): code is string => code !== undefined))];
        lastProblem = `${failed.length} of ${pending.length} records failed (${codes.join(', ')})`;
        pending = failed;
      } catch (error) {
        if (error instanceof KinesisWriteError) throw error;
        if (!RETRYABLE_ERRORS.has(errorName(error))) {
          throw new KinesisWriteError(`stream ${this.options.streamName}: PutRecords failed: ${describeAwsError(error)}`, pending.length, {
            cause: error,
          });
        }
        lastProblem = describeAwsError(error);
      }
    }
    throw new KinesisWriteError(
      `stream ${this.options.streamName}: ${pending.length} records still not written after ${this.backoff.maxAttempts} attempts; last: ${lastProblem}`,
      pending.length,
    );
  }
}

/** Splits entries into PutRecords calls of at most 500 records and 5 MiB. */
function* batches(entries: readonly Entry[]): Generator<Entry[]> {
  let batch: Entry[] = [];
  let bytes = 0;
  for (const entry of entries) {
    if (batch.length === KINESIS_LIMITS.recordsPerPutRecords || bytes + entry.bytes > KINESIS_LIMITS.bytesPerPutRecords) {
      yield batch;
      batch = [];
      bytes = 0;
    }
    batch.push(entry);
    bytes += entry.bytes;
  }
  if (batch.length > 0) yield batch;
}

function errorName(error: unknown): string {
  return error instanceof Error ? error.name : '';
}
