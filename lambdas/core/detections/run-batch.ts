/**
 * Runs a batch of serialised records (Kinesis records, lines of a file) through the engine in order
 * and publishes what they raise. New alerts are published as soon as their record is judged; the
 * `updated` messages of alerts joined within the batch are coalesced to one per alert and
 * published at the end, so a burst of matches pages once.
 */
import type { AlertMessage, AlertPublisher } from './ports';
import type { DetectionEngine } from './engine';
import { asDetectionRecord } from './record';

export interface BatchItem {
  /** What identifies the item to the caller (a Kinesis sequence number, a line number). */
  readonly id: string;
  /** The record as JSON text. */
  readonly data: string;
}

export interface BatchReport {
  /** Items judged (skipped ones included), before any `retryFrom`. */
  readonly processed: number;
  readonly alertsRaised: number;
  readonly alertsUpdated: number;
  /** Items that can never be judged (not a JSON object, no event time); retrying would not help. */
  readonly skipped: ReadonlyArray<{ readonly id: string; readonly reason: string }>;
  /** `updated` messages that could not be published; the alert itself was delivered before. */
  readonly failedUpdates: ReadonlyArray<{ readonly alertId: string; readonly error: Error }>;
  /**
   * The first item that failed for a reason that may pass (state store, publishing a new alert).
   * It and every later item were not (or not fully) processed and must be delivered again.
   */
  readonly retryFrom?: { readonly id: string; readonly error: Error };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export async function runDetectionBatch(
  deps: { readonly engine: DetectionEngine; readonly publisher: AlertPublisher },
  items: readonly BatchItem[],
): Promise<BatchReport> {
  const skipped: Array<{ id: string; reason: string }> = [];
  const pendingUpdates = new Map<string, AlertMessage>();
  let alertsRaised = 0;
  let processed = 0;
  let retryFrom: { id: string; error: Error } | undefined;

  for (const item of items) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(item.data);
    } catch (error) {
      skipped.push({ id: item.id, reason: `not JSON (${asError(error).message})` });
      processed += 1;
      continue;
    }
    const record = asDetectionRecord(parsed);
    if (record === undefined) {
      skipped.push({ id: item.id, reason: 'not a JSON object' });
      processed += 1;
      continue;
    }
    try {
      const verdict = await deps.engine.evaluate(record);
      for (const reason of verdict.problems) skipped.push({ id: item.id, reason });
      for (const alert of verdict.alerts) {
        await deps.publisher.publish(alert);
        alertsRaised += 1;
        pendingUpdates.delete(alert.alertId);
      }
      for (const update of verdict.updates) pendingUpdates.set(update.alertId, update);
    } catch (error) {
      retryFrom = { id: item.id, error: asError(error) };
      break;
    }
    processed += 1;
  }

  const failedUpdates: Array<{ alertId: string; error: Error }> = [];
  let alertsUpdated = 0;
  for (const update of pendingUpdates.values()) {
    try {
      await deps.publisher.publish(update);
      alertsUpdated += 1;
    } catch (error) {
      failedUpdates.push({ alertId: update.alertId, error: asError(error) });
    }
  }
  return { processed, alertsRaised, alertsUpdated, skipped, failedUpdates, ...(retryFrom ? { retryFrom } : {}) };
}
