/**
 * The contract of the cursor table's item: one item per source, holding the source's cursor, its
 * lease and the time the puller first saw it. Everything that reads or writes the item uses the
 * names, types and request shapes from here: the DynamoDB cursor store, the in-memory and file
 * stores, `sources status` and `sources remove`, the CDK table and the local stand-ins, and the
 * soak, which reads the requests the puller sends. So none of them can drift from the others.
 *
 * Pure: no AWS SDK import (the core reads the item's type too). The attribute values are written
 * in DynamoDB's JSON wire form (`{"S": "..."}`, `{"N": "..."}`), which is also what the SDK's
 * `AttributeValue` accepts and what an UpdateItem request carries on the wire.
 */

/** What the puller remembers about one source between runs. */
export interface Cursor {
  /** Okta's `next` link, verbatim; absent before the first page. */
  readonly nextUrl?: string;
  /** Newest `published` delivered so far (RFC 3339). */
  readonly newestPublished?: string;
  /** Wall-clock time (epoch ms) at which the newest delivered event was received. */
  readonly lastEventAt?: number;
  /** The last pull error, without any credential, for `sources status`. */
  readonly lastError?: string;
  /** Epoch ms of the last save. */
  readonly updatedAt?: number;
}

/** One source's item in the cursor table. */
export interface CursorItem extends Cursor {
  /** The partition key: the source id. */
  readonly sourceId: string;
  /** Epoch ms of the source's first lease: drop-off is measured from it until an event arrives. */
  readonly firstSeenAt?: number;
  /** The run holding the lease. */
  readonly leaseOwner?: string;
  /** Epoch ms at which the lease expires. */
  readonly leaseExpiresAt?: number;
}

type AttributeKind<T> = T extends number ? 'N' : 'S';

/** Every attribute of the item with its DynamoDB type: the attribute names are the item's field names. */
export const CURSOR_ITEM_ATTRIBUTES = {
  sourceId: 'S',
  nextUrl: 'S',
  newestPublished: 'S',
  lastEventAt: 'N',
  lastError: 'S',
  updatedAt: 'N',
  firstSeenAt: 'N',
  leaseOwner: 'S',
  leaseExpiresAt: 'N',
} as const satisfies { readonly [K in keyof CursorItem]-?: AttributeKind<Required<CursorItem>[K]> };

type AttributeName = keyof typeof CURSOR_ITEM_ATTRIBUTES;

/** The attribute names, for building expressions (`CURSOR_ATTRIBUTE.leaseOwner` is the string `leaseOwner`). */
export const CURSOR_ATTRIBUTE = Object.fromEntries(Object.keys(CURSOR_ITEM_ATTRIBUTES).map((name) => [name, name])) as {
  readonly [K in AttributeName]: K;
};
const A = CURSOR_ATTRIBUTE;

/** The table's partition key (a string attribute). */
export const CURSOR_TABLE_KEY = A.sourceId;

/** The cursor's own fields: what a save replaces (a field left out is removed). */
export const CURSOR_FIELDS = [A.nextUrl, A.newestPublished, A.lastEventAt, A.lastError, A.updatedAt] as const satisfies ReadonlyArray<
  keyof Cursor
>;

/** What the puller reads of every source once per run, to order and measure them: the cursor and `firstSeenAt`, not the lease. */
export type CursorActivity = Omit<CursorItem, typeof A.sourceId | typeof A.leaseOwner | typeof A.leaseExpiresAt>;

/** The attributes a source-activity read projects (`CursorActivity` and the key). */
export const ACTIVITY_ATTRIBUTES = [A.sourceId, ...CURSOR_FIELDS, A.firstSeenAt] as const;

function pick<K extends AttributeName>(
  value: Partial<Record<K, string | number>>,
  names: readonly K[],
): Partial<Record<K, string | number>> {
  const picked: Partial<Record<K, string | number>> = {};
  for (const name of names) {
    if (value[name] !== undefined) picked[name] = value[name];
  }
  return picked;
}

/** The cursor fields of `value` that are set: what a save stores (anything else is not part of the cursor). */
export function pickCursor(value: Cursor): Cursor {
  return pick(value, CURSOR_FIELDS) as Cursor;
}

/** The activity part of an item (only the fields present). */
export function activityOf(item: CursorItem): CursorActivity {
  return pick(item, [...CURSOR_FIELDS, A.firstSeenAt]) as CursorActivity;
}

/** A DynamoDB attribute value as this item uses them (JSON wire form). */
export type ItemValue = { readonly S: string } | { readonly N: string };

/** An item or value map as read back: any DynamoDB attribute value (only `S` and `N` are looked at). */
export type ReadItem = Readonly<Record<string, { readonly S?: string; readonly N?: string } | undefined>>;

/** The key of a source's item. */
export function cursorItemKey(sourceId: string): { readonly [CURSOR_TABLE_KEY]: ItemValue } {
  return { [CURSOR_TABLE_KEY]: { S: sourceId } };
}

function encode(name: AttributeName, value: string | number): ItemValue {
  return CURSOR_ITEM_ATTRIBUTES[name] === 'N' ? { N: String(value) } : { S: String(value) };
}

function decode(name: AttributeName, value: { readonly S?: string; readonly N?: string } | undefined): string | number | undefined {
  if (CURSOR_ITEM_ATTRIBUTES[name] === 'S') return value?.S;
  if (value?.N === undefined) return undefined;
  const number = Number(value.N);
  // Only this contract writes the item; a number that does not parse is treated as absent, never as NaN.
  return Number.isFinite(number) ? number : undefined;
}

function decodeFields<K extends AttributeName>(
  names: readonly K[],
  valueOf: (name: K) => ReadItem[string],
): Partial<Record<K, string | number>> {
  const fields: Partial<Record<K, string | number>> = {};
  for (const name of names) {
    const value = decode(name, valueOf(name));
    if (value !== undefined) fields[name] = value;
  }
  return fields;
}

/** The cursor of an item (only the fields present). */
export function decodeCursor(item: ReadItem): Cursor {
  return decodeFields(CURSOR_FIELDS, (name) => item[name]) as Cursor;
}

/** The whole item, or `undefined` when it has no source id (not an item of this table). */
export function decodeCursorItem(item: ReadItem): CursorItem | undefined {
  const sourceId = item[CURSOR_TABLE_KEY]?.S;
  if (sourceId === undefined) return undefined;
  const names = Object.keys(CURSOR_ITEM_ATTRIBUTES) as AttributeName[];
  return { ...(decodeFields(names, (name) => item[name]) as Partial<CursorItem>), sourceId };
}

/**
 * The expression placeholders of the cursor store's requests. The soak tells the operations apart
 * by which of them a request carries (`readCursorUpdate`), never by the wording of an expression.
 */
const V = { owner: ':owner', expires: ':expires', now: ':now' } as const;

/** The value placeholder of a cursor field in a save (`:nextUrl`). */
function fieldPlaceholder(name: keyof Cursor): string {
  return `:${name}`;
}

/** The condition of every write that only the lease holder may make (fencing). */
export const LEASE_HELD_BY_OWNER = `${A.leaseOwner} = ${V.owner}`;

/** An UpdateItem request of the cursor store, without the table name (the adapter adds it). */
export type CursorUpdate = {
  readonly Key: { readonly [CURSOR_TABLE_KEY]: ItemValue };
  readonly UpdateExpression: string;
  readonly ConditionExpression: string;
  readonly ExpressionAttributeValues: Readonly<Record<string, ItemValue>>;
  readonly ReturnValues?: 'ALL_NEW';
};

/**
 * Takes the lease: free, expired (strictly before `now`), or already the owner's; sets
 * `firstSeenAt` on the first acquire. Returns the whole item (`ALL_NEW`) for the cursor.
 */
export function acquireLeaseUpdate(sourceId: string, owner: string, now: number, expiresAt: number): CursorUpdate {
  return {
    Key: cursorItemKey(sourceId),
    UpdateExpression: `SET ${A.leaseOwner} = ${V.owner}, ${A.leaseExpiresAt} = ${V.expires}, ${A.firstSeenAt} = if_not_exists(${A.firstSeenAt}, ${V.now})`,
    ConditionExpression: `attribute_not_exists(${A.leaseOwner}) OR ${A.leaseExpiresAt} < ${V.now} OR ${A.leaseOwner} = ${V.owner}`,
    ExpressionAttributeValues: {
      [V.owner]: encode(A.leaseOwner, owner),
      [V.expires]: encode(A.leaseExpiresAt, expiresAt),
      [V.now]: encode(A.firstSeenAt, now),
    },
    ReturnValues: 'ALL_NEW',
  };
}

/**
 * Replaces the cursor (a field the caller left out, e.g. a cleared `lastError`, is removed),
 * only while `owner` is the recorded lease owner.
 */
export function saveCursorUpdate(sourceId: string, owner: string, cursor: Cursor, updatedAt: number): CursorUpdate {
  const set: string[] = [`${A.updatedAt} = ${fieldPlaceholder(A.updatedAt)}`];
  const remove: string[] = [];
  const values: Record<string, ItemValue> = {
    [V.owner]: encode(A.leaseOwner, owner),
    [fieldPlaceholder(A.updatedAt)]: encode(A.updatedAt, updatedAt),
  };
  for (const name of CURSOR_FIELDS) {
    if (name === A.updatedAt) continue;
    const value = cursor[name];
    if (value === undefined) {
      remove.push(name);
    } else {
      set.push(`${name} = ${fieldPlaceholder(name)}`);
      values[fieldPlaceholder(name)] = encode(name, value);
    }
  }
  return {
    Key: cursorItemKey(sourceId),
    UpdateExpression: `SET ${set.join(', ')}${remove.length > 0 ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ConditionExpression: LEASE_HELD_BY_OWNER,
    ExpressionAttributeValues: values,
  };
}

/** Gives the lease up, only if `owner` still holds it. */
export function releaseLeaseUpdate(sourceId: string, owner: string): CursorUpdate {
  return {
    Key: cursorItemKey(sourceId),
    UpdateExpression: `REMOVE ${A.leaseOwner}, ${A.leaseExpiresAt}`,
    ConditionExpression: LEASE_HELD_BY_OWNER,
    ExpressionAttributeValues: { [V.owner]: encode(A.leaseOwner, owner) },
  };
}

/**
 * Makes `owner`'s lease expire at `expiresAt` (only if it still holds it): what a frozen run
 * overrunning its lease looks like. Only the soak does this, to race a save with a takeover.
 */
export function expireLeaseUpdate(sourceId: string, owner: string, expiresAt: number): CursorUpdate {
  return {
    Key: cursorItemKey(sourceId),
    UpdateExpression: `SET ${A.leaseExpiresAt} = ${V.expires}`,
    ConditionExpression: LEASE_HELD_BY_OWNER,
    ExpressionAttributeValues: { [V.owner]: encode(A.leaseOwner, owner), [V.expires]: encode(A.leaseExpiresAt, expiresAt) },
  };
}

/** A cursor-store request, read back from its structured fields (see `readCursorUpdate`). */
export type CursorOperation =
  | { readonly kind: 'acquire'; readonly sourceId: string; readonly owner: string; readonly expiresAt: number }
  | { readonly kind: 'save'; readonly sourceId: string; readonly owner: string; readonly cursor: Cursor }
  | { readonly kind: 'release'; readonly sourceId: string; readonly owner: string };

/**
 * Which cursor-store operation an UpdateItem request (its JSON body, or the SDK input) is, and
 * what it asks for, from the key and the set of value placeholders the builders above use:
 * acquire carries the owner, the expiry and the time; save the owner, `updatedAt` and cursor
 * fields; release the owner alone. `undefined` for any other request (e.g. `expireLeaseUpdate`,
 * which carries the owner and the expiry without the time).
 */
export function readCursorUpdate(request: Readonly<Record<string, unknown>>): CursorOperation | undefined {
  const sourceId = (request.Key as ReadItem | undefined)?.[CURSOR_TABLE_KEY]?.S;
  const values = request.ExpressionAttributeValues as ReadItem | undefined;
  if (typeof sourceId !== 'string' || typeof values !== 'object' || values === null) return undefined;
  const owner = values[V.owner]?.S;
  if (owner === undefined) return undefined;
  const placeholders = new Set(Object.keys(values));
  const exactly = (...expected: string[]): boolean =>
    placeholders.size === expected.length && expected.every((name) => placeholders.has(name));
  if (exactly(V.owner)) return { kind: 'release', sourceId, owner };
  if (exactly(V.owner, V.expires, V.now)) {
    const expiresAt = decode(A.leaseExpiresAt, values[V.expires]);
    return typeof expiresAt === 'number' ? { kind: 'acquire', sourceId, owner, expiresAt } : undefined;
  }
  const cursorPlaceholders = new Set(CURSOR_FIELDS.map(fieldPlaceholder));
  if (
    placeholders.has(fieldPlaceholder(A.updatedAt)) &&
    [...placeholders].every((name) => name === V.owner || cursorPlaceholders.has(name))
  ) {
    return { kind: 'save', sourceId, owner, cursor: decodeFields(CURSOR_FIELDS, (name) => values[fieldPlaceholder(name)]) as Cursor };
  }
  return undefined;
}
