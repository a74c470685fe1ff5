import { createHash } from 'node:crypto';
import { isPlainObject } from '../json';

/**
 * Reading fields of a detection record. Records are normalised output records (`p_*` present) or
 * raw Okta events; both are plain JSON objects. Like Panther's `deep_get`, a JSON `null` reads as
 * missing, because Okta sends `null` for most optional fields.
 */

/** A record as the detections see it: a JSON object of whatever shape. */
export type DetectionRecord = Readonly<Record<string, unknown>>;

/** The value at `path` (object keys and array indexes), or `undefined` when missing or null. */
export function field(record: unknown, ...path: Array<string | number>): unknown {
  let current: unknown = record;
  for (const step of path) {
    if (typeof step === 'number') {
      if (!Array.isArray(current)) return undefined;
      current = current[step];
    } else {
      if (!isPlainObject(current)) return undefined;
      current = current[step];
    }
    if (current === null || current === undefined) return undefined;
  }
  return current;
}

/** The string at `path`; numbers and booleans are rendered as text, anything else is missing. */
export function text(record: unknown, ...path: Array<string | number>): string | undefined {
  const value = field(record, ...path);
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

/** The finite number at `path`; numeric strings count, since some exports stringify coordinates. */
export function number(record: unknown, ...path: Array<string | number>): number | undefined {
  const value = field(record, ...path);
  const parsed = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof parsed === 'number' && Number.isFinite(parsed) ? parsed : undefined;
}

/** The record's `uuid`, or for a record without one a stable stand-in: the hash of its content. */
export function recordId(record: DetectionRecord): string {
  return text(record, 'uuid') ?? `sha256:${createHash('sha256').update(JSON.stringify(record)).digest('hex')}`;
}

/** Narrows parsed JSON to a record (a JSON object). */
export function asDetectionRecord(value: unknown): DetectionRecord | undefined {
  return isPlainObject(value) ? value : undefined;
}

// RFC 3339 (`2024-05-01T12:34:56.789Z`, offsets) and Panther's `2024-05-01 12:34:56.789000000`
// (UTC, no zone, 0-9 fraction digits). Zone-less values are UTC, as Panther stores them.
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/** Epoch ms of an RFC 3339 or Panther-format timestamp, or `undefined` when it is neither. */
export function parseTimestamp(value: string): number | undefined {
  const parts = TIMESTAMP.exec(value.trim());
  if (!parts) return undefined;
  const [, y, mo, d, h, mi, s, fraction, , sign, offH, offM] = parts;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const ms = fraction === undefined ? 0 : Number(fraction.padEnd(3, '0').slice(0, 3));
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  const check = new Date(utc);
  // Date.UTC silently rolls 2024-02-31 into March: reject impossible dates instead.
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    check.getUTCHours() !== hour ||
    check.getUTCMinutes() !== minute ||
    check.getUTCSeconds() !== second
  ) {
    return undefined;
  }
  if (sign === undefined) return utc;
  const offsetMs = (Number(offH) * 60 + Number(offM)) * 60_000;
  return sign === '+' ? utc - offsetMs : utc + offsetMs;
}

/**
 * The event's own time: `p_event_time`, else `published`. Never the wall clock, so that replaying
 * the same records gives the same alerts.
 */
export function eventTimeOf(record: DetectionRecord): number | undefined {
  for (const name of ['p_event_time', 'published']) {
    const value = text(record, name);
    const parsed = value === undefined ? undefined : parseTimestamp(value);
    if (parsed !== undefined) return parsed;
  }
  return undefined;
}
