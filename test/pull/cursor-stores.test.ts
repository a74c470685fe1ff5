import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { FileCursorStore, MemoryCursorStore } from '../../lambdas/adapters/local';
import { createCursorTable, localDynamoDbClient, startDynalite } from '../../local/aws/dynamodb';
import type { LoopbackServer } from '../../local/aws/listen';
import { cursorStoreContract } from '../support/cursor-store-contract';

/** One suite, three stores: what the pull core may rely on holds for each (test/support/cursor-store-contract.ts). */

cursorStoreContract('MemoryCursorStore', {
  activity: true,
  open: async (clock) => ({ store: new MemoryCursorStore(clock) }),
});

let directory: string;
beforeAll(() => {
  directory = mkdtempSync(join(tmpdir(), 'cursor-stores-'));
});
afterAll(() => {
  rmSync(directory, { recursive: true, force: true });
});
let files = 0;

// The file store keeps its leases in memory by design (a lease in the file would outlive a crashed
// CLI run and block the user's next one), so its leases fence runs of one process: the lease
// tests run on one instance, and across instances only the cursor carries over.
cursorStoreContract('FileCursorStore', {
  activity: false,
  durable: { leasesShared: false },
  open: async (clock) => {
    files += 1;
    const path = join(directory, `state-${files}.json`);
    return { store: new FileCursorStore(path, clock), reopen: () => new FileCursorStore(path, clock) };
  },
});

let dynalite: LoopbackServer;
let client: DynamoDBClient;
beforeAll(async () => {
  dynalite = await startDynalite();
  client = localDynamoDbClient(dynalite.endpoint);
});
afterAll(async () => {
  client.destroy();
  await dynalite.close();
});
let tables = 0;

cursorStoreContract('DynamoDbCursorStore (dynalite)', {
  activity: true,
  durable: { leasesShared: true },
  open: async (clock) => {
    tables += 1;
    const tableName = `cursors-${tables}`;
    await createCursorTable(client, tableName);
    return {
      store: new DynamoDbCursorStore({ client, tableName, clock }),
      reopen: () => new DynamoDbCursorStore({ client, tableName, clock }),
    };
  },
});
