import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { CURSOR_TABLE_KEY } from '../../lambdas/contracts/cursor-item';
import { listenOnLoopback, type LoopbackServer } from './listen';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-credentials';

/** dynalite in-process on a free loopback port; tables become ACTIVE at once. */
export function startDynalite(): Promise<LoopbackServer> {
  return listenOnLoopback(dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 }));
}

export function localDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}

/** The cursor table as the stack defines it (lib/cursor-table.ts): the contract's partition key (S), on-demand. */
export async function createCursorTable(client: DynamoDBClient, tableName: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      AttributeDefinitions: [{ AttributeName: CURSOR_TABLE_KEY, AttributeType: 'S' }],
      KeySchema: [{ AttributeName: CURSOR_TABLE_KEY, KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
}
