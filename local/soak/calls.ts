/** Reading the calls and log lines the soak observed. */
import type { ObservedCall } from './observer-proxy';

/** Which cursor-store operation an UpdateItem is, from the expressions the DynamoDB adapter writes. */
export function cursorCallKind(call: ObservedCall): 'acquire' | 'save' | 'release' | 'other' {
  const update = typeof call.request.UpdateExpression === 'string' ? call.request.UpdateExpression : '';
  if (update.startsWith('SET leaseOwner')) return 'acquire';
  if (update.startsWith('REMOVE leaseOwner')) return 'release';
  if (update.startsWith('SET updatedAt') && call.request.ConditionExpression === 'leaseOwner = :owner') return 'save';
  return 'other';
}

/** `request[a][b][c]` when it is a string. */
export function attribute(request: Record<string, unknown>, ...path: string[]): string | undefined {
  let value: unknown = request;
  for (const step of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[step];
  }
  return typeof value === 'string' ? value : undefined;
}
