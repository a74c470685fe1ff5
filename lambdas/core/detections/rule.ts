/**
 * What a detection rule is. Adding a rule is one module under `rules/` that exports a `Rule`
 * (`rules/index.ts` finds it); the engine does thresholds, dedup periods and state.
 */
import type { DetectionRecord } from './record';
import type { JsonObject } from './json';

/** Panther's severities, lowest first. */
export const SEVERITIES = ['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** Facts a stateful check found, shown in the title and the alert context (e.g. old and new city). */
export type Findings = Readonly<Record<string, string | number>>;

/** What a rule's title, dedup key and context are computed from. */
export interface RuleInput {
  readonly record: DetectionRecord;
  /** Facts from the rule's stateful check; empty for stateless rules. */
  readonly findings: Findings;
  /** The distinct `collect` values of the alert's events so far (sorted); empty before grouping. */
  readonly collected: readonly string[];
}

/** The verdict of a stateful check on one record. */
export interface CheckVerdict {
  /** Present when the record matches, with what the check found. */
  readonly findings?: Findings;
  /** The state to store for the key; absent leaves the stored state as it is. */
  readonly next?: JsonObject;
}

/** Per-key state a rule keeps across records (e.g. each user's previous login). */
export interface StatefulCheck {
  /** The state's key within the rule and source (e.g. the user); `undefined` skips the record. */
  key(record: DetectionRecord): string | undefined;
  /** How long, in event time, stored state stays relevant. */
  readonly retentionMs: number;
  /**
   * Decides with the state stored for the key, `undefined` when there is none or it has expired.
   * `previous` is whatever an earlier version stored, so the check validates its shape.
   */
  evaluate(record: DetectionRecord, eventTime: number, previous: unknown): CheckVerdict;
}

export interface Rule {
  /** Panther's rule id, e.g. `Okta.APIKeyCreated`. */
  readonly id: string;
  readonly severity: Severity | ((record: DetectionRecord) => Severity);
  /** Matching events with one dedup key needed within one period to alert; default 1. */
  readonly threshold?: number;
  /** Length of the dedup period, which starts at the first match; default 60. */
  readonly dedupPeriodMinutes?: number;
  /** The stateless condition, checked first for every record. */
  match(record: DetectionRecord): boolean;
  /** State consulted after `match` passes; the record matches only when it finds something. */
  readonly check?: StatefulCheck;
  /** A label gathered over an alert's events (e.g. the failure reason), given to `title`. */
  collect?(record: DetectionRecord): string;
  title(input: RuleInput): string;
  /** Groups matches into one alert; Panther's default is the title. */
  dedupKey?(input: RuleInput): string;
  /** Rule-specific context for the responder, added to the common one. */
  context?(input: RuleInput): Record<string, unknown>;
}

/** Whether a module's export is a rule: how `rules/index.ts` tells rules from the helpers next to them. */
export function isRule(value: unknown): value is Rule {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.id === 'string' && typeof candidate.match === 'function' && typeof candidate.title === 'function';
}
