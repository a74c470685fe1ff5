/**
 * The ports of the pipeline core. The core (paging, cursor discipline, validation,
 * normalisation, batching, detections) talks only to these interfaces; AWS adapters
 * (`lambdas/adapters/aws`) and local adapters (`lambdas/adapters/local`, `local/`) implement them.
 * No AWS SDK import may appear under `lambdas/core`.
 */
import type { Cursor, CursorActivity } from '../contracts/cursor-item';

/** Time, injected so that no test depends on the wall clock. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time. */
  sleep(ms: number): Promise<void>;
}

/** How a source authenticates to its Okta org. */
export type OktaCredential =
  | { readonly kind: 'apiToken'; readonly token: string }
  | {
      readonly kind: 'oauth';
      readonly clientId: string;
      readonly privateKeyPem: string;
      readonly keyId?: string;
      readonly dpop: boolean;
    };

/** One Okta org registered as a source (one Secrets Manager secret, see docs/ONBOARDING.md). */
export interface SourceConfig {
  /** `^[a-z0-9][a-z0-9-]{0,62}$`, the secret name after the prefix. */
  readonly id: string;
  /** Origin of the org, e.g. `https://acme.okta.com` (no path, no trailing slash). */
  readonly domain: string;
  readonly label: string;
  readonly dropOffMinutes: number;
  readonly backfillHours: number;
  readonly enabled: boolean;
  /** The org is served from a custom URL domain, not an Okta org host. */
  readonly allowCustomDomain: boolean;
  readonly credential: OktaCredential;
}

/** The cursor and the item it is stored in are the cursor table's contract (`lambdas/contracts/cursor-item.ts`). */
export type { Cursor } from '../contracts/cursor-item';

/** A cursor store with a lease per source, so that two runs never pull one source at once. */
export interface CursorStore {
  /**
   * Takes the source's lease for `owner` until `now + leaseMs`, and returns the cursor.
   * Returns `undefined` when another owner holds an unexpired lease.
   */
  acquire(sourceId: string, owner: string, leaseMs: number): Promise<{ cursor: Cursor } | undefined>;
  /**
   * Advances the cursor, only while `owner` still holds the lease (fencing): otherwise throws
   * `LeaseLostError` and the cursor is unchanged.
   */
  save(sourceId: string, owner: string, cursor: Cursor): Promise<void>;
  /** Gives the lease up (best effort: it also expires by itself). */
  release(sourceId: string, owner: string): Promise<void>;
}

/** Thrown by `CursorStore.save` when the lease was taken over by another run. */
export class LeaseLostError extends Error {
  constructor(
    readonly sourceId: string,
    readonly owner: string,
  ) {
    super(`source ${sourceId}: lease no longer held by ${owner}; cursor not advanced`);
    this.name = 'LeaseLostError';
  }
}

/** A normalised output record: the event's own fields plus Panther's `p_*` standard fields. */
export type OutputRecord = Record<string, unknown> & {
  readonly uuid: string;
  readonly p_log_type: string;
  readonly p_event_time: string;
  readonly p_parse_time: string;
  readonly p_row_id: string;
  readonly p_source_id: string;
  readonly p_source_label: string;
};

/**
 * A record as the sink receives it: already serialised by the pull core, one event at a time, so
 * that an event that cannot be serialised is quarantined alone and a page in delivery holds text,
 * not object trees.
 */
export interface SerializedRecord {
  /** The event's `uuid`: the partition key and the dedupe key. */
  readonly uuid: string;
  /**
   * The `OutputRecord` as JSON text, on one line: the event's own text with the `p_*` members
   * appended when that is the same value, otherwise `JSON.stringify` of it (`pull/raw-record.ts`).
   */
  readonly json: string;
}

/** Where valid records go (Kinesis in AWS). Resolves only once every record is durable. */
export interface RecordSink {
  /**
   * Writes the records, retrying partial failures. Records that can never be written (for
   * example larger than the stream accepts) are returned with the reason; they belong in the
   * quarantine. Throws when the others could not be made durable.
   */
  write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }>;
}

/** JSON text, as a string or as its UTF-8 bytes. */
export type JsonText = string | Uint8Array;

/** An event that was not delivered to the stream, kept with the reasons. */
export interface QuarantinedEvent {
  readonly sourceId: string;
  /**
   * The event as JSON text: the bytes Okta sent when they are JSON within the size and depth
   * bounds; otherwise a JSON string holding its raw text, which was never parsed (the reasons
   * say why), as UTF-8 bytes: such an event may be megabytes, and bytes cost no copy of it on
   * V8's heap nor another when the quarantine writes them.
   */
  readonly eventJson: JsonText;
  readonly errors: readonly string[];
  /** Epoch ms. */
  readonly receivedAt: number;
}

/** Where invalid events go (S3 in AWS). Resolves only once every item is durable. */
export interface Quarantine {
  put(items: readonly QuarantinedEvent[]): Promise<void>;
}

/** A problem with one source's registration; never stops the other sources. */
export interface SourceProblem {
  readonly sourceId: string;
  /** Names the field that is wrong; never contains a credential. */
  readonly message: string;
}

/**
 * What a fresh read of one source's registration found (see `SourceRegistry.refresh`):
 * - `current`: the configuration as registered now; the same object as the one the caller holds
 *   when nothing changed since it was read;
 * - `offboarded`: the source is gone (deleted, or scheduled for deletion);
 * - `unavailable`: no usable configuration could be read now (a failed read, or a secret that no
 *   longer validates: the next listing reports that one as a problem).
 */
export type SourceRefresh =
  { readonly status: 'current'; readonly source: SourceConfig } | { readonly status: 'offboarded' } | { readonly status: 'unavailable' };

/** The registered sources (Secrets Manager in AWS). */
export interface SourceRegistry {
  /**
   * Every registered source, enabled or not, and every secret that failed validation. May be
   * served from a cache, and the listing behind it may lag (Secrets Manager's does, by minutes).
   */
  list(): Promise<{ sources: SourceConfig[]; problems: SourceProblem[] }>;
  /**
   * Reads one source's registration now, past any cache and without waiting for the listing to
   * catch up: the core asks after its credential was refused, because the credential may have
   * been rotated since it was read. The fresh read also serves the next `list`.
   */
  refresh(sourceId: string): Promise<SourceRefresh>;
}

/** What the cursor table knows about a source, read once per run to order and measure sources: its cursor and `firstSeenAt`. */
export type SourceActivity = CursorActivity;

/** Reads the activity of many sources at once (DynamoDB BatchGetItem in AWS). */
export interface SourceActivityStore {
  activity(sourceIds: readonly string[]): Promise<Map<string, SourceActivity>>;
}

/** The structured logger the run writes to (Powertools Logger in the Lambda). Never given a secret. */
export interface PullerLogger {
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/**
 * The `SourceRegistry` above, optionally told which source ids the run wants, so that a
 * shard does not read (and pay for) the secrets of the other shards' sources. Any
 * `SourceRegistry` fits: the run filters the listing itself as well.
 */
export interface PullerSourceRegistry {
  list(include?: (sourceId: string) => boolean): Promise<{ sources: SourceConfig[]; problems: SourceProblem[] }>;
  refresh(sourceId: string): Promise<SourceRefresh>;
}

/** Who produced a record and when: the context the normaliser adds to every event. */
export interface NormaliseContext {
  readonly sourceId: string;
  readonly sourceLabel: string;
  /** Epoch ms at which the pull received the event (becomes `p_parse_time`). */
  readonly parseTime: number;
}

/** The verdict on one event: the record the stream receives, or the validator's reasons. */
export type ProcessResult =
  | {
      readonly ok: true;
      readonly record: OutputRecord;
      /**
       * The `p_*` fields the record got, as JSON object members (`"p_log_type":"…","p_event_time":…`,
       * no braces, in the record's order), when no value of the event's own was coerced; absent
       * otherwise. Setting (or, for an indicator field without values, removing) the `p_*` fields
       * is then all the processor did: an event without top-level `p_*` keys of its own is the
       * record minus these members, so its JSON text with them appended is the record's text
       * (see `pull/raw-record.ts`, which checks the rest).
       */
      readonly standardFieldsJson?: string;
    }
  | { readonly ok: false; readonly errors: string[] };

/** Validates and normalises events of one log type (see `lambdas/core/schema`). */
export interface EventProcessor {
  readonly logType: string;
  process(event: unknown, context: NormaliseContext): ProcessResult;
}
