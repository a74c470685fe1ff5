/**
 * The rule engine. Panther's semantics: an alert fires when `threshold` matches with one dedup key
 * fall within one dedup period, which starts at the first match (not a sliding window); later
 * matches in that period join the alert. Time is the event's time, never the wall clock.
 *
 * Idempotence: Kinesis delivers at least once and a failed batch is retried, so every group
 * remembers the uuids it counted. A record seen again counts nothing new; if it was the one that
 * fired the alert, the same alert (same `alertId`) is emitted again, so an alert whose publication
 * failed is not lost on the retry.
 *
 * Scope: groups and rule state are per source (`p_source_id`), so that two Okta orgs with an
 * `admin` user, or with colliding request ids, never share a count.
 */
import { createHash } from 'node:crypto';
import type { AlertMessage } from './ports';
import { boundedAlertText } from './alert';
import { commonContext } from './context';
import { DETECTION_LIMITS, type DetectionLimits } from './limits';
import { eventTimeOf, recordId, text, type DetectionRecord } from './record';
import { SEVERITIES, type Findings, type Rule, type RuleInput, type Severity } from './rule';
import { DEFAULT_RULES } from './rules';
import { StateConflictError, type StateStore, type StoredState } from './ports';
import type { JsonObject } from './json';

/** Source id of records that carry no `p_source_id` (raw Okta events given to the CLI). */
export const UNKNOWN_SOURCE = '<UNKNOWN_SOURCE>';

/** What one record produced. */
export interface RecordVerdict {
  /** Alerts this record fired. */
  readonly alerts: AlertMessage[];
  /** Alerts this record joined, as they stand after it. */
  readonly updates: AlertMessage[];
  /** Why a matching rule could not judge the record; retrying would not help. */
  readonly problems: string[];
}

export interface DetectionEngineOptions {
  readonly state: StateStore;
  /** Default: the built-in rules (`DEFAULT_RULES`). */
  readonly rules?: readonly Rule[];
  readonly limits?: Partial<DetectionLimits>;
}

/** One dedup period of one rule and dedup key, as stored. */
interface Group {
  start: number;
  last: number;
  count: number;
  severity: Severity;
  uuids: string[];
  collected: string[];
  alertId?: string;
  firingUuid?: string;
}

type GroupOutcome = { kind: 'none' } | { kind: 'fired' | 'joined'; group: Group; alertId: string };

/** The outcome for a group: an alert only once the group has one. */
function outcome(kind: 'fired' | 'joined', group: Group): GroupOutcome {
  return group.alertId === undefined ? { kind: 'none' } : { kind, group, alertId: group.alertId };
}

// DynamoDB partition keys hold up to 2048 bytes; titles used as dedup keys can be long.
const MAX_PLAIN_KEY_BYTES = 1024;

function stateKey(kind: string, ...parts: string[]): string {
  const key = [kind, ...parts].join('|');
  if (Buffer.byteLength(key) <= MAX_PLAIN_KEY_BYTES) return key;
  return `${kind}|${parts[0]}|${parts[1]}|sha256:${createHash('sha256').update(key).digest('hex')}`;
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function parseGroup(value: JsonObject): Group | undefined {
  const { start, last, count, severity, uuids, collected, alertId, firingUuid } = value;
  if (
    typeof start !== 'number' ||
    typeof last !== 'number' ||
    typeof count !== 'number' ||
    typeof severity !== 'string' ||
    !(SEVERITIES as readonly string[]).includes(severity) ||
    !isStringArray(uuids) ||
    !isStringArray(collected) ||
    (alertId !== undefined && typeof alertId !== 'string') ||
    (firingUuid !== undefined && typeof firingUuid !== 'string')
  ) {
    return undefined;
  }
  return {
    start,
    last,
    count,
    severity: severity as Severity,
    uuids,
    collected,
    ...(alertId === undefined ? {} : { alertId }),
    ...(firingUuid === undefined ? {} : { firingUuid }),
  };
}

function groupToJson(group: Group): JsonObject {
  return { ...group, uuids: [...group.uuids], collected: [...group.collected] };
}

function maxSeverity(a: Severity, b: Severity): Severity {
  return SEVERITIES.indexOf(a) >= SEVERITIES.indexOf(b) ? a : b;
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

export class DetectionEngine {
  private readonly state: StateStore;
  private readonly rules: readonly Rule[];
  private readonly limits: DetectionLimits;

  constructor(options: DetectionEngineOptions) {
    this.state = options.state;
    this.rules = options.rules ?? DEFAULT_RULES;
    this.limits = { ...DETECTION_LIMITS, ...options.limits };
  }

  /**
   * Runs one record through every rule, in the order records arrive. Throws `StateStoreError` or
   * `StateConflictError` when state could not be read or written: retry the record.
   */
  async evaluate(record: DetectionRecord): Promise<RecordVerdict> {
    const verdict: RecordVerdict = { alerts: [], updates: [], problems: [] };
    const matching = this.rules.filter((rule) => rule.match(record));
    if (matching.length === 0) return verdict;
    const eventTime = eventTimeOf(record);
    if (eventTime === undefined) {
      verdict.problems.push(
        `record ${recordId(record)}: matches ${matching.map((rule) => rule.id).join(', ')} but has no usable ` +
          `event time in p_event_time or published (RFC 3339 or YYYY-MM-DD HH:MM:SS.fff expected); skipped`,
      );
      return verdict;
    }
    const sourceId = text(record, 'p_source_id') ?? UNKNOWN_SOURCE;
    for (const rule of matching) {
      const findings = await this.runCheck(rule, record, sourceId, eventTime);
      if (findings === undefined) continue;
      const input: RuleInput = { record, findings, collected: [] };
      const dedupKey = rule.dedupKey ? rule.dedupKey(input) : rule.title(input);
      const result = await this.updateGroup(rule, record, sourceId, dedupKey, eventTime);
      if (result.kind === 'none') continue;
      const message = this.message(result.kind === 'fired' ? 'new' : 'updated', rule, result, { input, dedupKey, sourceId });
      (result.kind === 'fired' ? verdict.alerts : verdict.updates).push(message);
    }
    return verdict;
  }

  /** The rule's stateful check, if any: its findings when the record matches, else `undefined`. */
  private async runCheck(rule: Rule, record: DetectionRecord, sourceId: string, eventTime: number): Promise<Findings | undefined> {
    const check = rule.check;
    if (check === undefined) return {};
    const key = check.key(record);
    if (key === undefined) return undefined;
    return this.mutate(stateKey('state', rule.id, sourceId, key), (stored) => {
      const previous = stored !== undefined && stored.expiresAt * 1000 > eventTime ? stored.value : undefined;
      const verdict = check.evaluate(record, eventTime, previous);
      return {
        result: verdict.findings,
        write:
          verdict.next === undefined ? undefined : { value: verdict.next, expiresAt: Math.ceil((eventTime + check.retentionMs) / 1000) },
      };
    });
  }

  private async updateGroup(
    rule: Rule,
    record: DetectionRecord,
    sourceId: string,
    dedupKey: string,
    eventTime: number,
  ): Promise<GroupOutcome> {
    const threshold = rule.threshold ?? this.limits.defaultThreshold;
    const periodMs = (rule.dedupPeriodMinutes ?? this.limits.defaultDedupPeriodMinutes) * 60_000;
    const uuid = recordId(record);
    const severity = typeof rule.severity === 'function' ? rule.severity(record) : rule.severity;
    const label = rule.collect?.(record);
    const alertIdFor = (start: number): string =>
      createHash('sha256')
        .update([rule.id, sourceId, dedupKey, String(start)].join('\n'))
        .digest('hex')
        .slice(0, 32);
    const fresh = (): Group => ({
      start: eventTime,
      last: eventTime,
      count: 1,
      severity,
      uuids: [uuid],
      collected: label === undefined ? [] : [label],
      ...(threshold <= 1 ? { alertId: alertIdFor(eventTime), firingUuid: uuid } : {}),
    });
    // Kept one period beyond its end so that matches arriving out of order still join it.
    const expiresAt = (group: Group): number => Math.ceil((group.start + 2 * periodMs) / 1000);

    return this.mutate(stateKey('group', rule.id, sourceId, dedupKey), (stored) => {
      const live = stored !== undefined && stored.expiresAt * 1000 > eventTime ? parseGroup(stored.value) : undefined;
      if (live !== undefined && live.uuids.includes(uuid)) {
        // Seen before (a retried batch or a duplicate delivery): count nothing again.
        return { result: live.firingUuid === uuid ? outcome('fired', live) : { kind: 'none' } };
      }
      if (live === undefined || eventTime >= live.start + periodMs) {
        const group = fresh();
        return { result: outcome('fired', group), write: { value: groupToJson(group), expiresAt: expiresAt(group) } };
      }
      if (eventTime < live.start && live.last - eventTime >= periodMs) {
        // Too far out of order to share the open period: judged on its own, like a period of one
        // match, and not stored because the open period is the one later matches need.
        return { result: outcome('fired', fresh()) };
      }
      const group: Group = {
        ...live,
        last: Math.max(live.last, eventTime),
        count: live.count + 1,
        severity: maxSeverity(live.severity, severity),
        uuids: live.uuids.length < this.limits.maxEventUuidsPerAlert ? [...live.uuids, uuid] : live.uuids,
        collected:
          label === undefined || live.collected.includes(label) || live.collected.length >= this.limits.maxCollectedPerAlert
            ? live.collected
            : [...live.collected, label].sort(),
      };
      const fires = live.alertId === undefined && group.count >= threshold;
      if (fires) {
        group.alertId = alertIdFor(group.start);
        group.firingUuid = uuid;
      }
      return {
        result: live.alertId !== undefined ? outcome('joined', group) : fires ? outcome('fired', group) : { kind: 'none' },
        write: { value: groupToJson(group), expiresAt: expiresAt(group) },
      };
    });
  }

  /** Read, decide, conditionally write; on a concurrent write, decide again from the new state. */
  private async mutate<T>(
    key: string,
    decide: (stored: StoredState | undefined) => { result: T; write?: { value: JsonObject; expiresAt: number } | undefined },
  ): Promise<T> {
    for (let attempt = 1; attempt <= this.limits.maxStateConflictAttempts; attempt += 1) {
      const stored = await this.state.get(key);
      const { result, write } = decide(stored);
      if (write === undefined) return result;
      if (await this.state.put(key, write.value, write.expiresAt, stored?.version)) return result;
    }
    throw new StateConflictError(key, this.limits.maxStateConflictAttempts);
  }

  private message(
    status: AlertMessage['status'],
    rule: Rule,
    { group, alertId }: { group: Group; alertId: string },
    at: { input: RuleInput; dedupKey: string; sourceId: string },
  ): AlertMessage {
    const input: RuleInput = { ...at.input, collected: group.collected };
    return {
      status,
      alertId,
      ruleId: rule.id,
      severity: group.severity,
      // Both come from event data: cut to 1 KiB with a digest of the whole, so distinct keys stay distinct.
      title: boundedAlertText(rule.title(input)),
      dedupKey: boundedAlertText(at.dedupKey),
      sourceId: at.sourceId,
      firstEventTime: iso(group.start),
      lastEventTime: iso(group.last),
      eventCount: group.count,
      eventUuids: group.uuids,
      context: { ...commonContext(input.record), ...rule.context?.(input) },
    };
  }
}
