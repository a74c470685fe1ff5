import { OktaError, OktaRateLimitError, type OktaErrorKind } from '../okta/errors';
import type { OktaClient, PageRequest } from '../okta/okta-client';
import {
  LeaseLostError,
  type Clock,
  type Cursor,
  type CursorStore,
  type EventProcessor,
  type OutputRecord,
  type Quarantine,
  type QuarantinedEvent,
  type RecordSink,
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
}

export type PullOutcome = 'caught-up' | 'deadline' | 'lease-held' | 'failed';

export type PullErrorKind = OktaErrorKind | 'lease-lost' | 'internal';

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

  private async pullPages(): Promise<'caught-up' | 'deadline'> {
    const { okta, clock } = this.deps;
    const { deadline, signal } = this.options;
    let request: PageRequest = this.cursor.nextUrl === undefined ? { since: this.firstSince() } : { nextUrl: this.cursor.nextUrl };
    for (;;) {
      if (signal?.aborted || clock.now() >= deadline) return 'deadline';
      this.stage = 'fetch';
      let page;
      try {
        page = await okta.fetchPage(request, {
          deadline,
          signal,
          onRetry: () => {
            this.retries += 1;
          },
          onRateLimitWait: (waitMs) => {
            this.rateLimitWaits += 1;
            this.rateLimitWaitMs += waitMs;
          },
        });
      } catch (error) {
        if (signal?.aborted) return 'deadline';
        // The reserve is reached and its reset comes after the deadline: the quota is kept for the
        // org's other integrations and the next run continues from the same cursor.
        if (error instanceof OktaRateLimitError && error.deferred) {
          this.rateLimitWaits += 1;
          return 'deadline';
        }
        throw error;
      }
      const receivedAt = clock.now();
      this.stage = 'deliver';
      const newestPublished = await this.deliver(page.events, receivedAt);
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
  }

  /** Writes the page's records and quarantined events; resolves once both are durable. */
  private async deliver(events: readonly unknown[], receivedAt: number): Promise<string | undefined> {
    const { processor, sink, quarantine } = this.deps;
    const context = { sourceId: this.source.id, sourceLabel: this.source.label, parseTime: receivedAt };
    const records: OutputRecord[] = [];
    const quarantined: QuarantinedEvent[] = [];
    for (const event of events) {
      let result;
      try {
        result = processor.process(event, context);
      } catch (error) {
        // A processor bug on one event must not block the source forever: the event is kept
        // with the reason, like any invalid one.
        result = { ok: false as const, errors: [`the ${processor.logType} processor failed: ${error instanceof Error ? error.message : String(error)}`] };
      }
      if (result.ok) records.push(result.record);
      else quarantined.push({ sourceId: this.source.id, event, errors: result.errors, receivedAt });
    }
    const [written] = await Promise.all([
      records.length > 0 ? sink.write(records) : Promise.resolve({ rejected: [] }),
      quarantined.length > 0 ? quarantine.put(quarantined) : Promise.resolve(),
    ]);
    const rejected = new Set(written.rejected.map((entry) => entry.record));
    if (written.rejected.length > 0) {
      await quarantine.put(
        written.rejected.map((entry) => ({ sourceId: this.source.id, event: entry.record, errors: [`refused by the record sink: ${entry.reason}`], receivedAt })),
      );
    }
    const accepted = records.filter((record) => !rejected.has(record));
    this.delivered += accepted.length;
    this.invalid += quarantined.length + written.rejected.length;
    let newest: string | undefined;
    for (const record of accepted) newest = newerPublished(newest, record.published);
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
      await this.deps.cursors.save(this.source.id, this.options.owner, { ...this.cursor, lastError: message, updatedAt: this.deps.clock.now() });
    } catch {
      // The store itself failing (or the lease gone) must not hide the original error: the summary carries it.
    }
  }

  private describeFailure(error: unknown): { kind: PullErrorKind; message: string } {
    if (error instanceof OktaError) return { kind: error.kind, message: error.message };
    if (error instanceof LeaseLostError) return { kind: 'lease-lost', message: error.message };
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

/** The later of two `published` values (unparseable ones lose), kept in the form Okta wrote. */
function newerPublished(current: string | undefined, candidate: unknown): string | undefined {
  if (typeof candidate !== 'string') return current;
  const candidateTime = Date.parse(candidate);
  if (Number.isNaN(candidateTime)) return current;
  if (current === undefined) return candidate;
  const currentTime = Date.parse(current);
  return Number.isNaN(currentTime) || candidateTime > currentTime ? candidate : current;
}
