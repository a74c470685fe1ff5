/**
 * The soak tells the cursor store's operations apart through the cursor item's contract
 * (`readCursorUpdate`), from the structured fields of each request. Here the real DynamoDB store
 * sends its requests over the wire through the soak's own observer proxy to dynalite, and every
 * request it sent must be read back as the operation it was, with its source, owner and values.
 */
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { expireLeaseUpdate, readCursorUpdate, releaseLeaseUpdate, saveCursorUpdate } from '../../lambdas/contracts/cursor-item';
import { LeaseLostError } from '../../lambdas/core/ports';
import { createCursorTable, localDynamoDbClient, startDynalite } from '../../local/aws/dynamodb';
import type { LoopbackServer } from '../../local/aws/listen';
import { cursorOperation } from '../../local/soak/calls';
import { startObserverProxy, type ObserverProxy } from '../../local/soak/observer-proxy';
import { VirtualClock } from '../support/virtual-clock';

let dynalite: LoopbackServer;
let observer: ObserverProxy;
beforeAll(async () => {
  dynalite = await startDynalite();
});
afterAll(async () => {
  await observer?.close();
  await dynalite.close();
});

it('reads every request of the DynamoDB cursor store, as sent on the wire, as the operation it is', async () => {
  const clock = new VirtualClock();
  const pass = async () => 'continue' as const;
  observer = await startObserverProxy({
    container: 'c1',
    target: dynalite.endpoint,
    clock,
    hooks: { beforeForward: pass, afterResponse: pass },
  });
  const client = localDynamoDbClient(observer.endpoint);
  try {
    await createCursorTable(client, 'cursors');
    const store = new DynamoDbCursorStore({ client, tableName: 'cursors', clock });
    const start = clock.now();
    const nextUrl = 'https://acme.okta.com/api/v1/logs?after=1';
    const delivered = { nextUrl, lastEventAt: 5, updatedAt: 6 };
    const failed = { nextUrl, lastError: 'source acme: fetching a page failed', updatedAt: 7 };
    /** A save of `cursor` by run-1, as the store sends it and the soak reads it back. */
    const saved = (cursor: object, status = 200) => ({
      operation: 'UpdateItem',
      status,
      cursor: { kind: 'save', sourceId: 'acme', owner: 'run-1', cursor },
    });

    await store.acquire('acme', 'run-1', 60_000);
    await store.save('acme', 'run-1', delivered);
    await store.save('acme', 'run-1', failed);
    await store.release('acme', 'run-1');
    await expect(store.save('acme', 'run-1', { updatedAt: 8 })).rejects.toThrow(LeaseLostError);
    await store.activity(['acme']);

    const read = observer.calls.map((call) => ({ operation: call.operation, status: call.status, cursor: cursorOperation(call) }));
    expect(read).toEqual([
      { operation: 'CreateTable', status: 200, cursor: undefined },
      { operation: 'UpdateItem', status: 200, cursor: { kind: 'acquire', sourceId: 'acme', owner: 'run-1', expiresAt: start + 60_000 } },
      saved(delivered),
      saved(failed),
      { operation: 'UpdateItem', status: 200, cursor: { kind: 'release', sourceId: 'acme', owner: 'run-1' } },
      saved({ updatedAt: 8 }, 400),
      { operation: 'BatchGetItem', status: 200, cursor: undefined },
    ]);
  } finally {
    client.destroy();
  }
});

it('reads no cursor operation into a request the store does not send (the soak’s own lease expiry, another table’s write)', () => {
  expect(readCursorUpdate({ TableName: 'cursors', ...expireLeaseUpdate('acme', 'run-1', 5) })).toBeUndefined();
  const save = saveCursorUpdate('acme', 'run-1', { nextUrl: 'https://acme.okta.com/x' }, 6);
  expect(
    readCursorUpdate({ ...save, ExpressionAttributeValues: { ...save.ExpressionAttributeValues, ':expected': { N: '1' } } }),
  ).toBeUndefined();
  expect(readCursorUpdate({ Key: { pk: { S: 'acme' } }, ExpressionAttributeValues: { ':owner': { S: 'run-1' } } })).toBeUndefined();
  expect(readCursorUpdate(releaseLeaseUpdate('acme', 'run-1'))).toEqual({ kind: 'release', sourceId: 'acme', owner: 'run-1' });
});
