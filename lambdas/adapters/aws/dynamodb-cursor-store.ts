import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
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
/** Unprocessed keys mean throttling: wait 50, 100, 200, 400 ms before asking again. */
const BATCH_GET_RETRY_BASE_MS = 50;

export interface DynamoDbCursorStoreOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Lease expiry is judged by this clock; the runs of one deployment share the Lambda clock. */
  readonly clock: Clock;
}

/**
 * Cursors in DynamoDB, one item per source (partition key `sourceId`):
 * `nextUrl`, `newestPublished`, `lastEventAt`, `lastError`, `updatedAt` (the cursor),
 * `leaseOwner`, `leaseExpiresAt` (the lease, epoch ms) and `firstSeenAt` (epoch ms of the first
 * acquire: what drop-off is measured from for a source that never delivered an event).
 *
 * The lease is taken with a conditional write (free, expired, or already ours), and every save is
 * conditional on `leaseOwner = :me`, so a run whose lease was taken over can never move the cursor.
 */
export class DynamoDbCursorStore implements CursorStore, SourceActivityStore {
  constructor(private readonly options: DynamoDbCursorStoreOptions) {}

  async acquire(sourceId: string, owner: string, leaseMs: number): Promise<{ cursor: Cursor } | undefined> {
    const now = this.options.clock.now();
    try {
      const { Attributes } = await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { sourceId: { S: sourceId } },
          UpdateExpression: 'SET leaseOwner = :owner, leaseExpiresAt = :expires, firstSeenAt = if_not_exists(firstSeenAt, :now)',
          ConditionExpression: 'attribute_not_exists(leaseOwner) OR leaseExpiresAt < :now OR leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': { S: owner }, ':expires': { N: String(now + leaseMs) }, ':now': { N: String(now) } },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { cursor: cursorFromItem(Attributes ?? {}) };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw new CursorStoreError(`source ${sourceId}: cannot take the lease in table ${this.options.tableName}: ${describeAwsError(error)}`, sourceId, { cause: error });
    }
  }

  async save(sourceId: string, owner: string, cursor: Cursor): Promise<void> {
    const set: string[] = ['updatedAt = :updatedAt'];
    const remove: string[] = [];
    const values: Record<string, AttributeValue> = {
      ':owner': { S: owner },
      ':updatedAt': { N: String(cursor.updatedAt ?? this.options.clock.now()) },
    };
    const fields: Array<[keyof Cursor, AttributeValue | undefined]> = [
      ['nextUrl', cursor.nextUrl === undefined ? undefined : { S: cursor.nextUrl }],
      ['newestPublished', cursor.newestPublished === undefined ? undefined : { S: cursor.newestPublished }],
      ['lastEventAt', cursor.lastEventAt === undefined ? undefined : { N: String(cursor.lastEventAt) }],
      ['lastError', cursor.lastError === undefined ? undefined : { S: cursor.lastError }],
    ];
    // A save replaces the cursor: a field the caller left out (e.g. a cleared lastError) is removed.
    for (const [name, value] of fields) {
      if (value === undefined) {
        remove.push(name);
      } else {
        set.push(`${name} = :${name}`);
        values[`:${name}`] = value;
      }
    }
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { sourceId: { S: sourceId } },
          UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) throw new LeaseLostError(sourceId, owner);
      throw new CursorStoreError(`source ${sourceId}: cannot save the cursor in table ${this.options.tableName}: ${describeAwsError(error)}`, sourceId, { cause: error });
    }
  }

  async release(sourceId: string, owner: string): Promise<void> {
    try {
      await this.options.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { sourceId: { S: sourceId } },
          UpdateExpression: 'REMOVE leaseOwner, leaseExpiresAt',
          ConditionExpression: 'leaseOwner = :owner',
          ExpressionAttributeValues: { ':owner': { S: owner } },
        }),
      );
    } catch (error) {
      // Someone else holds it now (ours expired): theirs is not ours to give up.
      if (error instanceof ConditionalCheckFailedException) return;
      throw new CursorStoreError(`source ${sourceId}: cannot release the lease in table ${this.options.tableName}: ${describeAwsError(error)}`, sourceId, { cause: error });
    }
  }

  async activity(sourceIds: readonly string[]): Promise<Map<string, SourceActivity>> {
    const found = new Map<string, SourceActivity>();
    for (let start = 0; start < sourceIds.length; start += BATCH_GET_MAX_KEYS) {
      let keys: Array<Record<string, AttributeValue>> = sourceIds.slice(start, start + BATCH_GET_MAX_KEYS).map((id) => ({ sourceId: { S: id } }));
      for (let round = 0; round < BATCH_GET_MAX_ROUNDS && keys.length > 0; round += 1) {
        if (round > 0) await this.options.clock.sleep(BATCH_GET_RETRY_BASE_MS * 2 ** (round - 1));
        let response;
        try {
          response = await this.options.client.send(
            new BatchGetItemCommand({
              RequestItems: {
                [this.options.tableName]: {
                  Keys: keys,
                  ProjectionExpression: 'sourceId, nextUrl, newestPublished, lastEventAt, lastError, updatedAt, firstSeenAt',
                },
              },
            }),
          );
        } catch (error) {
          throw new CursorStoreError(`cannot read source activity from table ${this.options.tableName}: ${describeAwsError(error)}`, '', { cause: error });
        }
        for (const item of response.Responses?.[this.options.tableName] ?? []) {
          const id = item.sourceId?.S;
          if (id !== undefined) found.set(id, { ...cursorFromItem(item), firstSeenAt: numberAttribute(item.firstSeenAt) });
        }
        keys = response.UnprocessedKeys?.[this.options.tableName]?.Keys ?? [];
      }
    }
    return found;
  }
}

function cursorFromItem(item: Record<string, AttributeValue>): Cursor {
  return {
    ...(item.nextUrl?.S !== undefined ? { nextUrl: item.nextUrl.S } : {}),
    ...(item.newestPublished?.S !== undefined ? { newestPublished: item.newestPublished.S } : {}),
    ...(item.lastEventAt?.N !== undefined ? { lastEventAt: Number(item.lastEventAt.N) } : {}),
    ...(item.lastError?.S !== undefined ? { lastError: item.lastError.S } : {}),
    ...(item.updatedAt?.N !== undefined ? { updatedAt: Number(item.updatedAt.N) } : {}),
  };
}

function numberAttribute(value: AttributeValue | undefined): number | undefined {
  return value?.N === undefined ? undefined : Number(value.N);
}
