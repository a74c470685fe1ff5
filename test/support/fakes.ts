/**
 * In-memory fakes of the pull core's ports, for unit tests: each records what it was given so a
 * test asserts on observable results, and each can be told to fail the way its real adapter can.
 */
import type { FetchPageOptions, LogPage, OktaClient, PageRequest } from '../../lambdas/core/okta';
import { MemoryCursorStore } from '../../lambdas/adapters/local/memory-cursor-store';
import {
  type Cursor,
  type EventProcessor,
  type NormaliseContext,
  type OutputRecord,
  type ProcessResult,
  type Quarantine,
  type QuarantinedEvent,
  type RecordSink,
  type SerializedRecord,
  type SourceConfig,
} from '../../lambdas/core/ports';
import { scanJsonArray } from '../../lambdas/core/okta/json-array-scanner';
import { jsonTextString } from '../../lambdas/core/pull/quarantine-document';

/** The API token of every test source: tests assert it appears in no output. */
export const TEST_API_TOKEN = 'test-token-not-real';

export function testSource(overrides: Partial<SourceConfig> = {}): SourceConfig {
  return {
    id: 'acme',
    domain: 'https://acme.okta.com',
    label: 'Acme Okta',
    dropOffMinutes: 60,
    backfillHours: 24,
    enabled: true,
    allowCustomDomain: false,
    credential: { kind: 'apiToken', token: TEST_API_TOKEN },
    ...overrides,
  };
}

/** A test source named `id`, on `https://<id>.okta.com`: for runs over several sources. */
export function namedSource(id: string, overrides: Partial<SourceConfig> = {}): SourceConfig {
  return testSource({ id, domain: `https://${id}.okta.com`, label: id, ...overrides });
}

/** A minimal Okta-like event. */
export function testEvent(
  index: number,
  published = new Date(Date.parse('2026-01-01T00:00:00.000Z') + index * 1000).toISOString(),
): Record<string, unknown> {
  return {
    uuid: `uuid-${String(index).padStart(6, '0')}`,
    published,
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    actor: { id: `00u${index}`, type: 'User' },
  };
}

/**
 * An Okta org in memory, with polling semantics: events in stored order, pages of `pageSize`,
 * `next` links that carry the index of the next event, short page = caught up.
 */
export class FakeOktaClient implements OktaClient {
  readonly sourceId = 'acme';
  readonly origin = 'https://acme.okta.com';
  readonly stored: unknown[] = [];
  readonly requests: PageRequest[] = [];
  private readonly failures: unknown[] = [];

  constructor(
    readonly pageSize = 3,
    events: unknown[] = [],
  ) {
    this.stored.push(...events);
  }

  /** The next `count` fetches throw `error` (before touching the store). */
  failNext(error: unknown, count = 1): void {
    for (let i = 0; i < count; i++) this.failures.push(error);
  }

  async fetchPage(request: PageRequest, options: FetchPageOptions = {}): Promise<LogPage> {
    this.requests.push(request);
    options.signal?.throwIfAborted();
    if (this.failures.length > 0) throw this.failures.shift();
    const start = 'since' in request ? 0 : Number(new URL(request.nextUrl).searchParams.get('after'));
    const events = this.stored.slice(start, start + this.pageSize);
    const url = 'since' in request ? `${this.origin}/api/v1/logs?since=${request.since}` : request.nextUrl;
    // The page goes through the real scanner, as the client's pages do.
    const scanned = scanJsonArray([Buffer.from(JSON.stringify(events), 'utf8')], this.pageSize);
    if ('error' in scanned) throw new Error(`FakeOktaClient: ${scanned.error}`);
    return {
      url,
      events: scanned.events,
      nextUrl: `${this.origin}/api/v1/logs?after=${start + events.length}`,
      caughtUp: events.length < this.pageSize,
      bytes: 0,
      release: () => undefined,
    };
  }
}

/**
 * The product's in-memory cursor store (the DynamoDB store's lease rules), recording every
 * successful save and able to fail the n-th save the way a crashed process would.
 */
export class InMemoryCursorStore extends MemoryCursorStore {
  /** Every successful save, in order. */
  readonly saves: Array<{ sourceId: string; cursor: Cursor }> = [];
  /** Errors thrown by the n-th call of `save` (1-based), e.g. a crash between the sink write and the save. */
  readonly saveFailures = new Map<number, unknown>();
  private saveCalls = 0;

  override async save(sourceId: string, owner: string, cursor: Cursor): Promise<void> {
    this.saveCalls += 1;
    if (this.saveFailures.has(this.saveCalls)) throw this.saveFailures.get(this.saveCalls);
    await super.save(sourceId, owner, cursor);
    this.saves.push({ sourceId, cursor: { ...cursor } });
  }
}

export class InMemoryRecordSink implements RecordSink {
  /** The records written, parsed back from their JSON. */
  readonly records: OutputRecord[] = [];
  readonly writes: number[] = [];
  readonly failures: unknown[] = [];

  /** Records for which this returns a reason are refused, as Kinesis refuses an oversized record. */
  constructor(private readonly refuse: (record: OutputRecord) => string | undefined = () => undefined) {}

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    if (this.failures.length > 0) throw this.failures.shift();
    const rejected: Array<{ record: SerializedRecord; reason: string }> = [];
    for (const serialized of records) {
      const record = JSON.parse(serialized.json) as OutputRecord;
      const reason = this.refuse(record);
      if (reason === undefined) this.records.push(record);
      else rejected.push({ record: serialized, reason });
    }
    this.writes.push(records.length);
    return { rejected };
  }

  uuids(): string[] {
    return this.records.map((record) => record.uuid);
  }
}

export class InMemoryQuarantine implements Quarantine {
  /** Each quarantined event, with `event` parsed back from its JSON text (a string when it was kept raw). */
  readonly items: Array<QuarantinedEvent & { readonly event: unknown }> = [];

  async put(items: readonly QuarantinedEvent[]): Promise<void> {
    this.items.push(...items.map((item) => ({ ...item, event: JSON.parse(jsonTextString(item.eventJson)) as unknown })));
  }
}

/**
 * A stand-in for the schema processor: an event is valid when it has a string `uuid` and a
 * parseable `published`; the record is the event plus the `p_*` fields.
 */
export const fakeProcessor: EventProcessor = {
  logType: 'Okta.SystemLog',
  process(event: unknown, context: NormaliseContext): ProcessResult {
    if (typeof event !== 'object' || event === null) return { ok: false, errors: ['event is not an object'] };
    const fields = event as Record<string, unknown>;
    const errors: string[] = [];
    if (typeof fields.uuid !== 'string') errors.push('uuid: required string');
    if (typeof fields.published !== 'string' || Number.isNaN(Date.parse(fields.published))) errors.push('published: required timestamp');
    if (errors.length > 0) return { ok: false, errors };
    const record: OutputRecord = {
      ...fields,
      uuid: fields.uuid as string,
      p_log_type: 'Okta.SystemLog',
      p_event_time: new Date(Date.parse(fields.published as string)).toISOString(),
      p_parse_time: new Date(context.parseTime).toISOString(),
      p_row_id: `row-${fields.uuid as string}`,
      p_source_id: context.sourceId,
      p_source_label: context.sourceLabel,
    };
    return { ok: true, record };
  },
};
