/**
 * The detections' `StateStore` on DynamoDB: one item per key (partition key `pk`), the value as a
 * JSON string, a `version` that fences every write, and `expiresAt` (epoch seconds) for the
 * table's TTL. Writes are conditional on the version read, so two invocations that process
 * matches of one key at once cannot both count from the same state.
 */
import { ConditionalCheckFailedException, GetItemCommand, PutItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { StateStoreError, type StateStore, type StoredState } from '../../core/detections/ports';
import type { JsonObject } from '../../core/detections/json';
import { describeAwsError } from './errors';

export class DynamoDbStateStore implements StateStore {
  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
  ) {}

  async get(key: string): Promise<StoredState | undefined> {
    let item;
    try {
      // Strongly consistent: a stale read would only cost a conflict and a retry, but costs it often.
      ({ Item: item } = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { pk: { S: key } }, ConsistentRead: true }),
      ));
    } catch (error) {
      throw new StateStoreError(`detection state table ${this.tableName}: GetItem failed for ${key}: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
    if (item === undefined) return undefined;
    const value = item.state?.S;
    const version = Number(item.version?.N);
    const expiresAt = Number(item.expiresAt?.N);
    let parsed: unknown;
    try {
      parsed = value === undefined ? undefined : JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (
      typeof parsed !== 'object' ||
      parsed === null ||
      Array.isArray(parsed) ||
      !Number.isInteger(version) ||
      !Number.isFinite(expiresAt)
    ) {
      // Written by something else: expose it as expired state, so that the next write replaces it.
      return { value: {}, version: Number.isInteger(version) ? version : 0, expiresAt: 0 };
    }
    return { value: parsed as JsonObject, version, expiresAt };
  }

  async put(key: string, value: JsonObject, expiresAt: number, expectedVersion: number | undefined): Promise<boolean> {
    try {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            pk: { S: key },
            state: { S: JSON.stringify(value) },
            version: { N: String((expectedVersion ?? 0) + 1) },
            expiresAt: { N: String(expiresAt) },
          },
          ...(expectedVersion === undefined
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : {
                ConditionExpression: '#version = :expected',
                ExpressionAttributeNames: { '#version': 'version' },
                ExpressionAttributeValues: { ':expected': { N: String(expectedVersion) } },
              }),
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw new StateStoreError(`detection state table ${this.tableName}: PutItem failed for ${key}: ${describeAwsError(error)}`, {
        cause: error,
      });
    }
  }
}
