/**
 * The reconciliation at the end of a demo (and of any local run): what the orgs served against
 * what the stream holds when READ BACK, never against the puller's own counters.
 */

/** The last line of `okta-log-pipeline demo`, exactly these keys in this order. */
export interface DeliveryTally {
  /** Distinct events (by uuid) the emulated orgs stored and so served. */
  readonly eventsServed: number;
  /** Distinct served events found in the stream. */
  readonly eventsDelivered: number;
  /** Extra copies of a uuid in the stream (at-least-once delivery; consumers dedupe on uuid). */
  readonly duplicates: number;
  /** Served events neither in the stream nor in the quarantine. */
  readonly lost: number;
  /** Served events in the quarantine bucket (failed validation), read back from the S3 stand-in. */
  readonly invalid: number;
}

/** Counts uuids seen in the stream as records are read back, in constant memory per uuid. */
export class StreamTally {
  private readonly copies = new Map<string, number>();

  add(uuid: string): void {
    this.copies.set(uuid, (this.copies.get(uuid) ?? 0) + 1);
  }

  has(uuid: string): boolean {
    return this.copies.has(uuid);
  }

  /** The final figures, given every served uuid and the uuids of the quarantined events. */
  reconcile(served: Iterable<string>, quarantined: Iterable<string>): DeliveryTally {
    const servedSet = new Set(served);
    const quarantinedSet = new Set(quarantined);
    let delivered = 0;
    let invalid = 0;
    let lost = 0;
    for (const uuid of servedSet) {
      if (this.copies.has(uuid)) delivered += 1;
      else if (quarantinedSet.has(uuid)) invalid += 1;
      else lost += 1;
    }
    let duplicates = 0;
    for (const count of this.copies.values()) duplicates += count - 1;
    return { eventsServed: servedSet.size, eventsDelivered: delivered, duplicates, lost, invalid };
  }
}
