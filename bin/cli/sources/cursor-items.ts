import { DeleteItemCommand, GetItemCommand, ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describeAwsError } from '../../../lambdas/adapters/aws/errors';
import { cursorItemKey, decodeCursorItem, type CursorItem } from '../../../lambdas/contracts/cursor-item';
import { SourcesCommandError } from './errors';

/** One source's item in the cursor table, as `DynamoDbCursorStore` writes it (the contract in lambdas/contracts/cursor-item.ts). */
export type { CursorItem } from '../../../lambdas/contracts/cursor-item';

export interface CursorTable {
  readonly name: string;
  readonly client: DynamoDBClient;
}

/** The item of one source, read consistently (status right after a run must show that run). */
export async function readCursorItem(table: CursorTable, sourceId: string): Promise<CursorItem | undefined> {
  try {
    const { Item } = await table.client.send(
      new GetItemCommand({ TableName: table.name, Key: cursorItemKey(sourceId), ConsistentRead: true }),
    );
    return Item === undefined ? undefined : decodeCursorItem(Item);
  } catch (error) {
    throw new SourcesCommandError(`source ${sourceId}: cannot read its cursor from table ${table.name}: ${describeAwsError(error)}`, {
      cause: error,
    });
  }
}

/**
 * Every item of the table. A scan, because `status` also shows cursors kept after their secret
 * was removed; one item per source keeps it small (500 sources are a few hundred KB).
 */
export async function scanCursorItems(table: CursorTable): Promise<CursorItem[]> {
  const items: CursorItem[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    let page;
    try {
      page = await table.client.send(new ScanCommand({ TableName: table.name, ExclusiveStartKey: start, ConsistentRead: true }));
    } catch (error) {
      throw new SourcesCommandError(`cannot read the cursors from table ${table.name}: ${describeAwsError(error)}`, { cause: error });
    }
    for (const item of page.Items ?? []) {
      const parsed = decodeCursorItem(item);
      if (parsed !== undefined) items.push(parsed);
    }
    start = page.LastEvaluatedKey;
  } while (start !== undefined);
  return items;
}

/** Deletes one source's item; returns whether there was one. */
export async function deleteCursorItem(table: CursorTable, sourceId: string): Promise<boolean> {
  try {
    const { Attributes } = await table.client.send(
      new DeleteItemCommand({ TableName: table.name, Key: cursorItemKey(sourceId), ReturnValues: 'ALL_OLD' }),
    );
    return Attributes !== undefined;
  } catch (error) {
    throw new SourcesCommandError(`source ${sourceId}: cannot delete its cursor from table ${table.name}: ${describeAwsError(error)}`, {
      cause: error,
    });
  }
}
