import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { backoffDelayMs, type BackoffDelays } from '../../core/backoff';
import {
  ACTIVITY_ATTRIBUTES,
  acquireLeaseUpdate,
  activityOf,
  cursorItemKey,
  decodeCursor,
  decodeCursorItem,
  releaseLeaseUpdate,
  saveCursorUpdate,
  type CursorUpdate,
} from '../../contracts/cursor-item';
import { LeaseLostError, type Clock, type Cursor, type CursorStore } from '../../core/ports';
import type { SourceActivity, SourceActivityStore } from '../../core/ports';
import { CursorStoreError, describeAwsError } from './errors';

/** BatchGetItem's own ceiling of keys per call. */
const BATCH_GET_MAX_KEYS = 100;
/**
 * Rounds of re-asking for UnprocessedKeys (DynamoDB returns them under throttling) before the
 * activity read gives up; activity only orders sources and feeds metrics, so a miss is tolerable.
 */
const BATCH_GET_MAX_ROUNDS = 5;
/** Unprocessed keys mean throttling: wait up to 50, 100, 200, 400 ms (full jitter) before asking again. */
const BATCH_GET_BACKOFF: BackoffDelays = { baseDelayMs: 50, maxDelayMs: 400 };

export interface DynamoDbCursorStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Lease expiry is judged by this clock; the runs of one deployment share the Lambda clock. */
  readonly clock: Clock;
  /** For the backoff's jitter; injectable so a test can pin it. @default Math.random */
  readonly random?: () => number;
}

/**
 * Cursors in DynamoDB, one item per source (the item, its attributes and the requests below are
 * the contract in `lambdas/contracts/cursor-item.ts`): the cursor, the lease and `firstSeenAt`
 * (epoch ms of the first acquire: what drop-off is measured from for a source that never
 * delivered an event).
 *
 * The lease is taken with a conditional write (free, expired, or already ours), and every save is
 * conditional on the lease owner being the saver, so a run whose lease was taken over can never
 * move the cursor.
 */
export class DynamoDbCursorStore implements CursorStore, SourceActivityStore {
  constructor(private readonly options: DynamoDbCursorStoreOptions) {}

  async acquire(sourceId: string, owner: string, leaseMs: number): Promise<{ cursor: Cursor } | undefined> {
    const now = this.options.clock.now();
    try {
      const { Attributes } = await this.update(acquireLeaseUpdate(sourceId, owner, now, now + leaseMs));
      return { cursor: decodeCursor(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw new CursorStoreError(
        `source ${sourceId}: cannot take the lease in table ${this.options.tableName}: ${describeAwsError(error)}`,
        sourceId,
        { cause: error },
      );
    }
  }

  async save(sourceId: string, owner: string, cursor: Cursor): Promise<void> {
    try {
      await this.update(saveCursorUpdate(sourceId, owner, cursor, cursor.updatedAt ?? this.options.clock.now()));
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLostError(sourceId, owner);
      throw new CursorStoreError(
        `source ${sourceId}: cannot save the cursor in table ${this.options.tableName}: ${describeAwsError(error)}`,
        sourceId,
        { cause: error },
      );
    }
  }

  async release(sourceId: string, owner: string): Promise<void> {
    try {
      await this.update(releaseLeaseUpdate(sourceId, owner));
    } catch (error) {
      // Someone else holds it now (ours expired): theirs is not ours to give up.
      if (error instanceof ConditionalCheckFailedException) return;
      throw new CursorStoreError(
        `source ${sourceId}: cannot release the lease in table ${this.options.tableName}: ${describeAwsError(error)}`,
        sourceId,
        { cause: error },
      );
    }
  }

  async activity(sourceIds: readonly string[]): Promise<Map<string, SourceActivity>> {
    const found = new Map<string, SourceActivity>();
    for (let start = 0; start < sourceIds.length; start += BATCH_GET_MAX_KEYS) {
      let keys: Array<Record<string, AttributeValue>> = sourceIds.slice(start, start + BATCH_GET_MAX_KEYS).map(cursorItemKey);
      for (let round = 0; round < BATCH_GET_MAX_ROUNDS && keys.length > 0; round += 1) {
        if (round > 0) await this.options.clock.sleep(backoffDelayMs(BATCH_GET_BACKOFF, round, this.options.random ?? Math.random));
        let response;
        try {
          response = await this.options.client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.options.tableName]: {
                  Keys: keys,
                  ProjectionExpression: ACTIVITY_ATTRIBUTES.join(', '),
                },
              },
            }),
          );
        } catch (error) {
          throw new CursorStoreError(`cannot read source activity from table ${this.options.tableName}: ${describeAwsError(error)}`, '', {
            cause: error,
          });
        }
        for (const item of response.Responses?.[this.options.tableName] ?? []) {
          const decoded = decodeCursorItem(item);
          if (decoded !== undefined) found.set(decoded.sourceId, activityOf(decoded));
        }
        keys = response.UnprocessedKeys?.[this.options.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  private update(update: CursorUpdate) {
    return this.options.client.send(new UpdateItemCommand({ TableName: this.options.tableName, ...update }));
  }
}
