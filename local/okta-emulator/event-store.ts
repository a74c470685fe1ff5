/**
 * The System Log storage of one emulated org, and the two ways Okta reads it
 * (https://developer.okta.com/docs/reference/system-log-query/):
 * - polling reads (no `until`, ascending) walk the storage in the order events were *stored*, so
 *   an event stored late (its `published` long past) is still delivered to a polling cursor;
 * - bounded reads (`since` and `until`) walk the events ordered by `published`, and see only what
 *   is stored at the time of the read.
 * Storage is append-only with non-decreasing storage times, as Okta's persistence time is.
 */

/** A System Log event as the API returns it: a JSON object, kept verbatim (invalid ones too). */
export type OktaEvent = { readonly [field: string]: unknown };

interface StoredEvent {
  /**
   * The event serialised once: pages are served without re-serialisation, and large backlogs
   * (100,000 events in the benchmark) keep no object graphs alive for the garbage collector.
   */
  readonly json: string;
  readonly storedAt: number;
  /** Storage sequence number: the tie-break between events stored in the same millisecond. */
  readonly seq: number;
  /** `published` in epoch ms, or NaN when it is missing or not a date (kept, never matched by bounded reads). */
  readonly publishedAt: number;
}

/** A page of stored events, serialised, and where the next read continues. */
export interface StoredPage {
  /** The events, each already serialised as JSON. */
  readonly json: readonly string[];
  readonly count: number;
}

export interface PollingPage extends StoredPage {
  /** Storage index of the last event this page covers (-1 before the first). */
  readonly lastIndex: number;
}

export type SortOrder = 'ASCENDING' | 'DESCENDING';

/** The position after which a bounded read continues: the last event returned. */
export interface BoundedKey {
  readonly publishedAt: number;
  readonly seq: number;
}

export interface BoundedPage extends StoredPage {
  /** More events match after this page. */
  readonly more: boolean;
  /** The last event of the page (absent when the page is empty): where the next page starts. */
  readonly lastKey?: BoundedKey;
}

export class EventStore {
  private readonly committed: StoredEvent[] = [];
  /** Events whose storage time is still in the future, ordered by storage time. */
  private pending: StoredEvent[] = [];
  private nextSeq = 0;
  private latestStoredAt = Number.NEGATIVE_INFINITY;

  /**
   * Stores events at `storedAt` (epoch ms). A storage time before the newest one already stored is
   * raised to it, because storage never goes back in time; one in the future (after `now`) makes the
   * events appear only once the clock reaches it.
   */
  add(events: readonly OktaEvent[], storedAt: number, now: number): void {
    this.commitUpTo(now);
    const at = Math.max(storedAt, this.latestStoredAt);
    const entries = events.map((event) => this.entry(event, at));
    if (at <= now) {
      appendAll(this.committed, entries);
      this.latestStoredAt = at;
      return;
    }
    this.pending = [...this.pending, ...entries].sort((a, b) => a.storedAt - b.storedAt || a.seq - b.seq);
  }

  /** Every event stored by `now`, in storage order (fresh copies: the store keeps only JSON). */
  stored(now: number): readonly OktaEvent[] {
    this.commitUpTo(now);
    return this.committed.map((entry) => JSON.parse(entry.json) as OktaEvent);
  }

  /** Storage index just before the first event stored at or after `since` (the start of a poll). */
  indexBefore(since: number, now: number): number {
    this.commitUpTo(now);
    let low = 0;
    let high = this.committed.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.committed[middle].storedAt < since) {
        low = middle + 1;
      } else {
        high = middle;
      }
    }
    return low - 1;
  }

  /** Up to `limit` events stored after storage index `afterIndex`. */
  poll(afterIndex: number, limit: number, now: number): PollingPage {
    this.commitUpTo(now);
    const slice = this.committed.slice(afterIndex + 1, afterIndex + 1 + limit);
    return { json: slice.map((entry) => entry.json), count: slice.length, lastIndex: afterIndex + slice.length };
  }

  /** Storage index of the newest stored event (-1 when empty). */
  lastIndex(now: number): number {
    this.commitUpTo(now);
    return this.committed.length - 1;
  }

  /**
   * Up to `limit` events with `since <= published < until`, ordered by `published` (storage order
   * among equals), continuing after `after` when given.
   */
  bounded(since: number, until: number, order: SortOrder, limit: number, now: number, after?: BoundedKey): BoundedPage {
    this.commitUpTo(now);
    const direction = order === 'ASCENDING' ? 1 : -1;
    const compare = (a: BoundedKey, b: BoundedKey): number => direction * (a.publishedAt - b.publishedAt || a.seq - b.seq);
    const matching = this.committed
      .filter((entry) => entry.publishedAt >= since && entry.publishedAt < until)
      .filter((entry) => after === undefined || compare(entry, after) > 0)
      .sort(compare);
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return {
      json: page.map((entry) => entry.json),
      count: page.length,
      more: matching.length > page.length,
      ...(last === undefined ? {} : { lastKey: { publishedAt: last.publishedAt, seq: last.seq } }),
    };
  }

  private entry(event: OktaEvent, storedAt: number): StoredEvent {
    const published = event.published;
    return {
      json: JSON.stringify(event),
      storedAt,
      seq: this.nextSeq++,
      publishedAt: typeof published === 'string' ? Date.parse(published) : Number.NaN,
    };
  }

  private commitUpTo(now: number): void {
    let due = 0;
    while (due < this.pending.length && this.pending[due].storedAt <= now) {
      due += 1;
    }
    if (due === 0) {
      return;
    }
    const arrived = this.pending.slice(0, due);
    this.pending = this.pending.slice(due);
    appendAll(this.committed, arrived);
    this.latestStoredAt = Math.max(this.latestStoredAt, arrived[arrived.length - 1].storedAt);
  }
}

/** `push(...items)` overflows the call stack for large backlogs (100,000 events in the benchmark). */
function appendAll<T>(target: T[], items: readonly T[]): void {
  for (const item of items) {
    target.push(item);
  }
}
