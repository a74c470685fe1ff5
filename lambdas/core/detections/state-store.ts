/** The detections' state port: thresholds, dedup periods and rule state (DynamoDB in AWS). */

export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** One stored item. */
export interface StoredState {
  readonly value: JsonObject;
  /** Incremented by every write; the fence for optimistic concurrency. */
  readonly version: number;
  /** Epoch seconds after which the item is stale (DynamoDB TTL deletes it some time later). */
  readonly expiresAt: number;
}

/**
 * A key-value store with conditional writes, so that two invocations processing matches of one key
 * at once cannot both count from the same starting state.
 */
export interface StateStore {
  get(key: string): Promise<StoredState | undefined>;
  /**
   * Stores `value` as version `expectedVersion + 1` (or 1), only if the stored version is still
   * `expectedVersion` (`undefined`: only if there is no item). Resolves `false` on a conflict.
   * Throws `StateStoreError` when the store cannot be reached.
   */
  put(key: string, value: JsonObject, expiresAt: number, expectedVersion: number | undefined): Promise<boolean>;
}

/** The state store failed; the record is retried later. */
export class StateStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StateStoreError';
  }
}

/** Conditional writes kept losing to concurrent writers; the record is retried later. */
export class StateConflictError extends Error {
  constructor(readonly key: string, readonly attempts: number) {
    super(`detection state ${key}: still changed by a concurrent writer after ${attempts} attempts; will retry the record`);
    this.name = 'StateConflictError';
  }
}
