import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Quarantine, QuarantinedEvent } from '../../core/ports';
import { quarantineDocument } from '../../core/pull/quarantine-document';
import { mapWithConcurrency } from '../../core/puller/map-with-concurrency';
import { QuarantineWriteError, describeAwsError } from './errors';

/**
 * Parallel PutObject calls per batch: a page of 1,000 events is rarely more than a few invalid
 * ones, and eight in flight keeps a burst of bad events from eating the run's time budget.
 */
export const DEFAULT_QUARANTINE_CONCURRENCY = 8;

export interface S3QuarantineOptions {
  readonly client: S3Client;
  readonly bucketName: string;
  readonly concurrency?: number;
}

/**
 * Invalid events in S3, one object each: `<sourceId>/<yyyy>/<mm>/<dd>/<hash>.json` (date of
 * receipt, UTC), body `{sourceId, receivedAt, errors, event}`. The name is a hash of the source
 * and the raw event, so a retried page writes the same object again instead of a duplicate, and
 * nothing an attacker puts in an event can shape the key.
 */
export class S3Quarantine implements Quarantine {
  constructor(private readonly options: S3QuarantineOptions) {}

  async put(items: readonly QuarantinedEvent[]): Promise<void> {
    const failures = await mapWithConcurrency(items, this.options.concurrency ?? DEFAULT_QUARANTINE_CONCURRENCY, async (item) => {
      const key = quarantineKey(item);
      try {
        await this.options.client.send(
          new PutObjectCommand({
            Bucket: this.options.bucketName,
            Key: key,
            Body: quarantineDocument(item),
            ContentType: 'application/json',
          }),
        );
        return undefined;
      } catch (error) {
        return { key, error };
      }
    });
    const failed = failures.filter((failure): failure is { key: string; error: unknown } => failure !== undefined);
    const first = failed[0];
    if (first !== undefined) {
      throw new QuarantineWriteError(
        `quarantine bucket ${this.options.bucketName}: ${failed.length} of ${items.length} invalid events not stored (first ${first.key}: ${describeAwsError(first.error)})`,
        { cause: first.error },
      );
    }
  }
}

export function quarantineKey(item: QuarantinedEvent): string {
  const day = new Date(item.receivedAt).toISOString().slice(0, 10).split('-').join('/');
  const hash = createHash('sha256').update(item.sourceId).update('\n').update(item.eventJson).digest('hex').slice(0, 32);
  return `${item.sourceId}/${day}/${hash}.json`;
}
