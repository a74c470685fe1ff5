/** What the detections emit, and the port that delivers it (SNS in AWS, stdout in the CLI). */
import type { Severity } from './rule';

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
