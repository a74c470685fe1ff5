/**
 * The ports of the detections core: the state store (thresholds, dedup periods and rule state;
 * DynamoDB in AWS) and the alert publisher (SNS in AWS, stdout in the CLI). The engine talks only
 * to these interfaces; `lambdas/adapters/aws` and the local runtime implement them.
 */
import type { JsonObject } from './json';
import type { Severity } from './rule';

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
  constructor(
    readonly key: string,
    readonly attempts: number,
  ) {
    super(`detection state ${key}: still changed by a concurrent writer after ${attempts} attempts; will retry the record`);
    this.name = 'StateConflictError';
  }
}

/**
 * One alert message. An alert is sent once as `new` when it fires (with the events that reached
 * the threshold). Matches that join it later in its dedup period are reported as one `updated`
 * message per alert per batch of records, carrying the whole list so far, so a subscriber sees the
 * alert grow without being paged again for every event. Delivery is at-least-once: a retried
 * batch can resend a message, with the same `alertId`.
 */
export interface AlertMessage {
  readonly status: 'new' | 'updated';
  /** Stable for one alert: derived from rule, source, dedup key and the period's start. */
  readonly alertId: string;
  readonly ruleId: string;
  readonly severity: Severity;
  readonly title: string;
  readonly dedupKey: string;
  readonly sourceId: string;
  /** RFC 3339 time of the first match, where the dedup period starts. */
  readonly firstEventTime: string;
  /** RFC 3339 time of the newest match in the alert. */
  readonly lastEventTime: string;
  /** Matches counted in the alert, including any beyond the `eventUuids` kept. */
  readonly eventCount: number;
  /** The matching events' uuids, oldest first, up to `DETECTION_LIMITS.maxEventUuidsPerAlert`. */
  readonly eventUuids: readonly string[];
  /** What a responder needs first: actor, client IP and location, targets, rule findings. */
  readonly context: Record<string, unknown>;
}

export interface AlertPublisher {
  /** Resolves once the message is accepted for delivery; throws otherwise. */
  publish(message: AlertMessage): Promise<void>;
}
