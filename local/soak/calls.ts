/** Reading the calls and log lines the soak observed. */
import { readCursorUpdate, type CursorOperation } from '../../lambdas/contracts/cursor-item';
import type { ObservedCall } from './observer-proxy';

/**
 * The cursor-store operation a DynamoDB call carried (acquire, save or release, with its source,
 * owner and values), read through the cursor item's contract; `undefined` for any other call.
 */
export function cursorOperation(call: ObservedCall): CursorOperation | undefined {
  return call.operation === 'UpdateItem' ? readCursorUpdate(call.request) : undefined;
}

/** The cursor operation of `kind` the call carried, if it did. */
export function cursorCall<K extends CursorOperation['kind']>(
  call: ObservedCall,
  kind: K,
): Extract<CursorOperation, { kind: K }> | undefined {
  const operation = cursorOperation(call);
  return operation?.kind === kind ? (operation as Extract<CursorOperation, { kind: K }>) : undefined;
}
