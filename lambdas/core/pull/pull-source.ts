import { createHash } from 'node:crypto';
import type { PageBudget } from '../memory/page-budget';
import { DEFAULT_EVENT_LIMITS, examineEvent, type EventLimits } from './examine-event';
import { OktaError, OktaRateLimitError, type OktaErrorKind } from '../okta/errors';
import type { LogPage, OktaClient, PageRequest } from '../okta/okta-client';
import {
  LeaseLostError,
  type Clock,
  type Cursor,
  type CursorStore,
  type EventProcessor,
  type JsonText,
  type NormaliseContext,
  type Quarantine,
  type QuarantinedEvent,
  type RecordSink,
  type SerializedRecord,
  type SourceConfig,
} from '../ports';

/** The ports one pull works through. */
export interface PullDependencies {
  readonly okta: OktaClient;
  readonly cursors: CursorStore;
  readonly sink: RecordSink;
  readonly quarantine: Quarantine;
  readonly processor: EventProcessor;
  readonly clock: Clock;
}

export interface PullOptions {
  /** Who holds the lease (unique per run, e.g. the Lambda request id). */
  readonly owner: string;
  /** Epoch ms by `deps.clock`: no new page is fetched from then on, and no wait may end after it. */
  readonly deadline: number;
  /** How long the lease lasts; longer than the run can take, so it never lapses mid-run. */
  readonly leaseMs: number;
  /**
   * Epoch ms to start from when the source has no cursor yet (the CLI's `--since`).
   * @default now − source.backfillHours
   */
  readonly startAt?: number;
  /** Stops the pull before the next page (the CLI's Ctrl-C); the outcome is then `deadline`. */
  readonly signal?: AbortSignal;
  /** Called after each page is durable and its cursor saved (the CLI's progress line). */
  readonly onPage?: (progress: PullProgress) => void;
  /**
   * The run's budget of page bytes in flight, shared by all its sources.
   * @default a budget for this pull alone
   */
  readonly pageBudget?: PageBudget;
  /** Overrides of `DEFAULT_EVENT_LIMITS` (see examine-event). */
  readonly eventLimits?: Partial<EventLimits>;
  /**
   * Called with the number of events about to be written to the quarantine, before each write:
   * the puller counts them in `EventsInvalid` at once, so a run killed right after the write has
   * still counted every event it put in the quarantine.
   */
  readonly onQuarantine?: (count: number) => void;
}

export type PullOutcome = 'caught-up' | 'deadline' | 'lease-held' | 'failed';

export type PullErrorKind = OktaErrorKind | 'lease-lost' | 'internal' | 'paging-loop';

/**
 * Okta's paging is looping: a full page's next link repeats a URL already fetched in this run, or
 * a full page holds only events this run has already been served (a link that keeps the cursor but
 * changes some other parameter each time). Following it would fetch the same events forever (and,
 * as events keep arriving, hide the source's silence from the drop-off alarm). The source fails
 * instead, counted in `PagingLoops`.
 */
export class PagingLoopError extends Error {
  override readonly name = 'PagingLoopError';
}

/** The counters of a pull so far. */
export interface PullProgress {
  readonly sourceId: string;
  readonly pages: number;
  /** Records made durable in the sink. */
  readonly delivered: number;
  /** Events quarantined: failed validation, or refused by the sink. */
  readonly invalid: number;
  /** Times the pull held back for the rate limit (waited, or stopped because the reset came after the deadline). */
  readonly rateLimitWaits: number;
  readonly rateLimitWaitMs: number;
  /** Okta requests retried after a transient failure (5xx, timeout, reset, truncated body). */
  readonly retries?: number;
  /** Pages over `maxResponseBytes` asked for again with a smaller `limit`. */
  readonly pageSplits?: number;
  /** Newest `published` delivered so far, this run or before (RFC 3339, as Okta wrote it). */
  readonly newestPublished?: string;
  /** Epoch ms at which the newest event was received, this run or before. */
  readonly lastEventAt?: number;
}

export interface PullSummary extends PullProgress {
  readonly outcome: PullOutcome;
  /** Why the pull failed; never contains a credential. Also stored as the cursor's `lastError`. */
  readonly error?: { readonly kind: PullErrorKind; readonly message: string };
}

/** The summary of a pull that failed before it fetched anything: every counter zero. */
export function failedPullSummary(sourceId: string, error: NonNullable<PullSummary['error']>): PullSummary {
  return { sourceId, outcome: 'failed', pages: 0, delivered: 0, invalid: 0, rateLimitWaits: 0, rateLimitWaitMs: 0, error };
}

/**
 * Pulls one source: takes its lease, loads its cursor, then page by page fetches events,
 * validates and normalises them, makes valid records durable in the sink and invalid ones in the
 * quarantine, and only then saves the page's next link as the cursor, until Okta has nothing more
 * or the deadline is near. A crash between the write and the save re-delivers the page on the next
 * run (at-least-once, `uuid` dedupes); it can never skip one.
 *
 * Never throws for a failure of the source: the summary and the cursor's `lastError` carry it.
 */
export async function pullSource(deps: PullDependencies, source: SourceConfig, options: PullOptions): Promise<PullSummary> {
  const run = new PullRun(deps, source, options);
  return run.execute();
}

type Stage = 'lease' | 'fetch' | 'deliver' | 'save';

/** A fetch's outcome: the page and when it arrived (its events' receipt time), or why it failed. */
type Fetched = { readonly page: LogPage; readonly receivedAt: number } | { readonly error: unknown };

const STAGE_WORDS: Readonly<Record<Stage, string>> = {
  lease: 'taking the lease on the cursor',
  fetch: 'fetching a page',
  deliver: 'delivering records',
  save: 'saving the cursor',
};

class PullRun {
  private pages = 0;
  private delivered = 0;
  private invalid = 0;
  private rateLimitWaits = 0;
  private rateLimitWaitMs = 0;
  private retries = 0;
  private pageSplits = 0;
  private cursor: Cursor = {};
  private stage: Stage = 'lease';

  constructor(
    private readonly deps: PullDependencies,
    private readonly source: SourceConfig,
    private readonly options: PullOptions,
  ) {}

  async execute(): Promise<PullSummary> {
    const { cursors } = this.deps;
    const { owner, leaseMs } = this.options;
    let lease: { cursor: Cursor } | undefined;
    try {
      lease = await cursors.acquire(this.source.id, owner, leaseMs);
    } catch (error) {
      return this.summary('failed', this.describeFailure(error));
    }
    if (lease === undefined) return this.summary('lease-held');
    this.cursor = lease.cursor;
    try {
      return this.summary(await this.pullPages());
    } catch (error) {
      const failure = this.describeFailure(error);
      if (failure.kind !== 'lease-lost') await this.recordError(failure.message);
      return this.summary('failed', failure);
    } finally {
      await this.release();
    }
  }

  /**
   * Pages in order, fetching one page ahead: while page N is validated, delivered and its cursor
   * saved, page N+1 is already being fetched from page N's next link, so that Okta serves while we
   * work. Never more than one page ahead (a fetch starts only once the previous one is in), each
   * through the client's rate-limit gate, started before the deadline and counted in the run's
   * page budget from its first byte. Cursors are still saved in order, each only after its page
   * is durable. The page fetched ahead is dropped undelivered (its request aborted, its bytes
   * given back) when the run is aborted, when delivering or saving page N fails (a lost lease
   * included), and when the deadline has passed by the time page N is saved: the run then stops
   * where it would have stopped without fetching ahead.
   */
  private async pullPages(): Promise<'caught-up' | 'deadline'> {
    const { clock } = this.deps;
    const { deadline, signal } = this.options;
    const dropAhead = new AbortController();
    const fetchSignal = signal === undefined ? dropAhead.signal : AbortSignal.any([signal, dropAhead.signal]);
    let request: PageRequest = this.cursor.nextUrl === undefined ? { since: this.firstSince() } : { nextUrl: this.cursor.nextUrl };
    const fetched = new Set<string>();
    const served = new ServedEvents(SERVED_EVENTS_REMEMBERED);
    let ahead: Promise<Fetched> | undefined;
    try {
      for (;;) {
        if (signal?.aborted || clock.now() >= deadline) return 'deadline';
        this.stage = 'fetch';
        const outcome = await (ahead ?? this.fetch(request, fetchSignal));
        ahead = undefined;
        if ('error' in outcome) {
          if (signal?.aborted) return 'deadline';
          // The reserve is reached and its reset comes after the deadline: the quota is kept for the
          // org's other integrations and the next run continues from the same cursor.
          if (outcome.error instanceof OktaRateLimitError && outcome.error.deferred) {
            this.rateLimitWaits += 1;
            return 'deadline';
          }
          throw outcome.error;
        }
        const { page, receivedAt } = outcome;
        fetched.add(pageKey(page.url));
        // Its events are delivered (they may be new), but the cursor is not moved along the loop,
        // and the looping link is not fetched ahead either.
        const looping = !page.caughtUp && fetched.has(pageKey(page.nextUrl));
        this.stage = 'deliver';
        let delivered: Delivered;
        try {
          if (!page.caughtUp && !looping && !signal?.aborted && clock.now() < deadline)
            ahead = this.fetch({ nextUrl: page.nextUrl }, fetchSignal);
          delivered = await this.deliver(page, receivedAt, served);
        } finally {
          page.release();
        }
        if (looping) {
          throw new PagingLoopError(
            `source ${this.source.id}: a full page's next link repeats a URL already fetched in this run; Okta's paging is looping, so the source stops instead of fetching the same events again`,
          );
        }
        if (!page.caughtUp && page.events.length > 0 && delivered.allServedBefore) {
          throw new PagingLoopError(
            `source ${this.source.id}: a full page holds only events already served in this run; Okta's paging is looping, so the source stops instead of fetching the same events again`,
          );
        }
        const newestPublished = delivered.newestPublished;
        this.stage = 'save';
        const newest = newerPublished(this.cursor.newestPublished, newestPublished);
        const lastEventAt = page.events.length > 0 ? receivedAt : this.cursor.lastEventAt;
        // Absent, not `undefined`: stores that serialise the cursor need not know about undefined.
        const advanced: Cursor = {
          nextUrl: page.nextUrl,
          ...(newest === undefined ? {} : { newestPublished: newest }),
          ...(lastEventAt === undefined ? {} : { lastEventAt }),
          updatedAt: clock.now(),
        };
        await this.deps.cursors.save(this.source.id, this.options.owner, advanced);
        // Only a saved cursor is ours: if the save failed, the error is recorded on the old one.
        this.cursor = advanced;
        this.pages += 1;
        this.options.onPage?.(this.progress());
        if (page.caughtUp) return 'caught-up';
        request = { nextUrl: page.nextUrl };
      }
    } finally {
      // Whatever ended the loop, a page still in flight or read ahead belongs to no page we will
      // deliver: its request is aborted, and its bytes go back to the run's budget even if it
      // completes after all.
      dropAhead.abort(new Error('the pull stopped; the page fetched ahead is not needed'));
      if (ahead !== undefined) void ahead.then((dropped) => ('page' in dropped ? dropped.page.release() : undefined));
    }
  }

  /**
   * One page, settled: never rejects, so that a page fetched ahead which fails while the previous
   * one is delivered is an outcome to read in order, not an unhandled rejection.
   */
  private fetch(request: PageRequest, signal: AbortSignal): Promise<Fetched> {
    const { okta, clock } = this.deps;
    return okta
      .fetchPage(request, {
        deadline: this.options.deadline,
        signal,
        onRetry: () => {
          this.retries += 1;
        },
        onRateLimitWait: (waitMs) => {
          this.rateLimitWaits += 1;
          this.rateLimitWaitMs += waitMs;
        },
        onPageSplit: () => {
          this.pageSplits += 1;
        },
        ...(this.options.pageBudget === undefined ? {} : { pageBudget: this.options.pageBudget }),
      })
      .then(
        (page): Fetched => ({ page, receivedAt: clock.now() }),
        (error: unknown): Fetched => ({ error }),
      );
  }

  /**
   * Delivers a page: event by event it is parsed (when its size and depth allow), validated,
   * normalised and serialised, each step able to quarantine that event alone with the reason;
   * records and quarantined events are written in small batches, so that what the page holds
   * besides its raw bytes stays small. Resolves once all of it is durable, with whether every
   * event of the page had been served already in this run (noted in `served`).
   */
  private async deliver(page: LogPage, receivedAt: number, served: ServedEvents): Promise<Delivered> {
    const limits = { ...DEFAULT_EVENT_LIMITS, ...this.options.eventLimits };
    const context: NormaliseContext = { sourceId: this.source.id, sourceLabel: this.source.label, parseTime: receivedAt };
    let records: Array<{ record: SerializedRecord; published: unknown }> = [];
    let quarantined: QuarantinedEvent[] = [];
    let batchBytes = 0;
    let newest: string | undefined;
    let allServedBefore = true;
    const flush = async (): Promise<void> => {
      if (records.length === 0 && quarantined.length === 0) return;
      newest = newerPublished(newest, await this.write(records, quarantined, receivedAt));
      records = [];
      quarantined = [];
      batchBytes = 0;
    };
    for (const raw of page.events) {
      const verdict = examineEvent(raw, this.deps.processor, context, limits);
      // A valid event is known by its uuid; one without a usable uuid, by its text. An event cut
      // at the page bound is never known: two huge events may begin alike.
      if (raw.truncated || !('record' in verdict ? served.note('uuid', verdict.record.uuid) : served.note('text', verdict.eventJson)))
        allServedBefore = false;
      if ('record' in verdict) {
        records.push(verdict);
        batchBytes += verdict.record.json.length;
      } else {
        quarantined.push({ sourceId: this.source.id, eventJson: verdict.eventJson, errors: verdict.errors, receivedAt });
        batchBytes += verdict.eventJson.length;
      }
      if (records.length + quarantined.length >= limits.deliveryBatchRecords || batchBytes >= limits.deliveryBatchBytes) await flush();
    }
    await flush();
    return { newestPublished: newest, allServedBefore };
  }

  /** Counts the events (`onQuarantine`) before they are written, so that no kill can skip the count. */
  private quarantine(items: readonly QuarantinedEvent[]): Promise<void> {
    this.options.onQuarantine?.(items.length);
    return this.deps.quarantine.put(items);
  }

  /** Writes one batch; resolves once records and quarantined events are durable, with the newest `published` delivered. */
  private async write(
    records: ReadonlyArray<{ record: SerializedRecord; published: unknown }>,
    quarantined: readonly QuarantinedEvent[],
    receivedAt: number,
  ): Promise<string | undefined> {
    const { sink } = this.deps;
    const [written] = await Promise.all([
      records.length > 0 ? sink.write(records.map((entry) => entry.record)) : Promise.resolve({ rejected: [] }),
      quarantined.length > 0 ? this.quarantine(quarantined) : Promise.resolve(),
    ]);
    const rejected = new Set(written.rejected.map((entry) => entry.record));
    if (written.rejected.length > 0) {
      await this.quarantine(
        written.rejected.map((entry) => ({
          sourceId: this.source.id,
          eventJson: entry.record.json,
          errors: [`refused by the record sink: ${entry.reason}`],
          receivedAt,
        })),
      );
    }
    let newest: string | undefined;
    let accepted = 0;
    for (const entry of records) {
      if (rejected.has(entry.record)) continue;
      accepted += 1;
      newest = newerPublished(newest, entry.published);
    }
    this.delivered += accepted;
    this.invalid += quarantined.length + written.rejected.length;
    return newest;
  }

  private firstSince(): string {
    const start = this.options.startAt ?? this.deps.clock.now() - this.source.backfillHours * 3_600_000;
    return new Date(start).toISOString();
  }

  private async release(): Promise<void> {
    try {
      await this.deps.cursors.release(this.source.id, this.options.owner);
    } catch {
      // Best effort by contract: the lease also expires by itself, and the outcome is already known.
    }
  }

  /** Keeps the cursor where it is and notes the failure for `sources status`. */
  private async recordError(message: string): Promise<void> {
    try {
      await this.deps.cursors.save(this.source.id, this.options.owner, {
        ...this.cursor,
        lastError: message,
        updatedAt: this.deps.clock.now(),
      });
    } catch {
      // The store itself failing (or the lease gone) must not hide the original error: the summary carries it.
    }
  }

  private describeFailure(error: unknown): { kind: PullErrorKind; message: string } {
    if (error instanceof OktaError) return { kind: error.kind, message: error.message };
    if (error instanceof LeaseLostError) return { kind: 'lease-lost', message: error.message };
    if (error instanceof PagingLoopError) return { kind: 'paging-loop', message: error.message };
    const reason = error instanceof Error ? error.message : String(error);
    return { kind: 'internal', message: `source ${this.source.id}: ${STAGE_WORDS[this.stage]} failed: ${reason}` };
  }

  private progress(): PullProgress {
    const progress: PullProgress = {
      sourceId: this.source.id,
      pages: this.pages,
      delivered: this.delivered,
      invalid: this.invalid,
      rateLimitWaits: this.rateLimitWaits,
      rateLimitWaitMs: this.rateLimitWaitMs,
      retries: this.retries,
      pageSplits: this.pageSplits,
    };
    return {
      ...progress,
      ...(this.cursor.newestPublished === undefined ? {} : { newestPublished: this.cursor.newestPublished }),
      ...(this.cursor.lastEventAt === undefined ? {} : { lastEventAt: this.cursor.lastEventAt }),
    };
  }

  private summary(outcome: PullOutcome, error?: { kind: PullErrorKind; message: string }): PullSummary {
    return error === undefined ? { ...this.progress(), outcome } : { ...this.progress(), outcome, error };
  }
}

/** What delivering a page found. */
interface Delivered {
  /** The newest `published` among the records delivered. */
  readonly newestPublished: string | undefined;
  /** Every event of the page had been served already in this run (true for an empty page). */
  readonly allServedBefore: boolean;
}

/**
 * How many events of a run each source remembers to see a paging loop by content: 20 pages of
 * Okta's default 1,000 events. Each is kept as a 48-bit digest in a Set (about 45 bytes each), so
 * a source spends at most about 1 MB on it however long its run; a loop that cycles through more
 * distinct events than this is seen only by its URLs, or ends at the run's deadline.
 */
const SERVED_EVENTS_REMEMBERED = 20_000;

/**
 * The events a run has been served, as digests of their identities, the oldest forgotten first
 * once `capacity` is reached. A 48-bit digest makes a false "served before" for a page of new
 * events need every one of its events to collide: below 1 in 10^10 even for a page of one event.
 */
class ServedEvents {
  private readonly digests = new Set<number>();

  constructor(private readonly capacity: number) {}

  /**
   * Remembers the event; true when it had been served before. The identity is hashed as it is
   * (text or UTF-8 bytes alike), never turned into another string: a quarantined event's bytes
   * may be megabytes long.
   */
  note(kind: 'uuid' | 'text', identity: JsonText): boolean {
    const digest = createHash('sha256').update(`${kind}:`).update(identity).digest().readUIntBE(0, 6);
    if (this.digests.has(digest)) return true;
    if (this.digests.size >= this.capacity) {
      const oldest = this.digests.values().next();
      if (oldest.done !== true) this.digests.delete(oldest.value);
    }
    this.digests.add(digest);
    return false;
  }
}

/** A page's URL without its `limit`, which splitting and regrowing change: the position it reads from. */
function pageKey(url: string): string {
  if (!URL.canParse(url)) return url;
  const parsed = new URL(url);
  parsed.searchParams.delete('limit');
  parsed.searchParams.sort();
  parsed.hash = '';
  return parsed.href;
}

/** The later of two `published` values (unparseable ones lose), kept in the form Okta wrote. */
function newerPublished(current: string | undefined, candidate: unknown): string | undefined {
  if (typeof candidate !== 'string') return current;
  const candidateTime = Date.parse(candidate);
  if (Number.isNaN(candidateTime)) return current;
  if (current === undefined) return candidate;
  const currentTime = Date.parse(current);
  return Number.isNaN(currentTime) || candidateTime > currentTime ? candidate : current;
}
