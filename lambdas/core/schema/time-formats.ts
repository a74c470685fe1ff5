/**
 * Timestamp checks and UTC conversion for Panther's time formats.
 *
 * The generated validators `require` this module for their string formats (see `AJV_FORMATS`),
 * so the check that accepts a timestamp and the conversion that turns it into `p_event_time` are
 * the same code and cannot disagree. That is also why ajv-formats is not used: its `date-time`
 * accepts a space instead of `T` and any number of fractional digits, and it has no conversion.
 */
import { RFC3339_FORMAT, RFC3339_OR_INTEGER_FORMAT, RFC3339_OR_NUMERIC_FORMAT, type TimeFormat } from './vocabulary';

/** Fractional digits RFC 3339 timestamps may carry here: Okta sends 0, 2 or 3; some sources 9. */
const MAX_FRACTION_DIGITS = 9;

/** A decimal number as JSON writes it, for strings holding a Unix time. */
const NUMERIC_PATTERN = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

const MS_PER_MINUTE = 60_000;
/** RFC 3339 has four-digit years only. */
const YEAR_MIN = 0;
const YEAR_MAX = 9999;

function daysInMonth(year: number, month: number): number {
  if (month === 2) {
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
    return leap ? 29 : 28;
  }
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Epoch ms of a UTC calendar time; `Date.UTC` alone maps years 0-99 to 1900-1999. */
function utcEpochMs(year: number, month: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  date.setUTCFullYear(year);
  return date.getTime();
}

/** `YYYY-MM-DDTHH:MM:SS[.fraction]Z`, or undefined outside years 0000-9999. */
function formatUtc(epochMs: number, fraction: string): string | undefined {
  const date = new Date(epochMs);
  // Beyond ±8.64e15 ms a Date is invalid and its year NaN, which no comparison catches.
  if (Number.isNaN(date.getTime())) return undefined;
  const year = date.getUTCFullYear();
  if (year < YEAR_MIN || year > YEAR_MAX) return undefined;
  const iso = date.toISOString();
  // toISOString writes years 0000-9999 with four digits, so the first 19 characters are fixed.
  return `${iso.slice(0, 19)}${fraction === '' ? '' : `.${fraction}`}Z`;
}

/** The number written by `count` ASCII digits at `start`, or -1 when one of them is not a digit. */
function digitsAt(text: string, start: number, count: number): number {
  let value = 0;
  for (let index = start; index < start + count; index += 1) {
    const digit = text.charCodeAt(index) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

/**
 * The instant of an RFC 3339 `date-time` in UTC, keeping the original fractional digits (a
 * whole-minute offset never changes them). Accepts 0 to 9 fractional digits and lower-case `t`/`z`
 * as RFC 3339 allows; rejects impossible dates (2017-09-31) and leap seconds (`:60`, which no UTC
 * instant other than the next second's start can represent; Okta does not emit them). Undefined
 * when `value` is not such a timestamp. Parsed by hand: it runs for every event.
 */
export function rfc3339ToUtc(value: string): string | undefined {
  const length = value.length;
  if (length < 20 || value[4] !== '-' || value[7] !== '-' || value[13] !== ':' || value[16] !== ':') return undefined;
  const separator = value[10];
  if (separator !== 'T' && separator !== 't') return undefined;
  const year = digitsAt(value, 0, 4);
  const month = digitsAt(value, 5, 2);
  const day = digitsAt(value, 8, 2);
  const hour = digitsAt(value, 11, 2);
  const minute = digitsAt(value, 14, 2);
  const second = digitsAt(value, 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let index = 19;
  let fraction = '';
  if (value[index] === '.') {
    let end = index + 1;
    while (end < length && digitsAt(value, end, 1) >= 0) end += 1;
    const count = end - index - 1;
    if (count < 1 || count > MAX_FRACTION_DIGITS) return undefined;
    fraction = value.slice(index + 1, end);
    index = end;
  }
  const zone = value[index];
  if (zone === 'Z' || zone === 'z') {
    if (index !== length - 1) return undefined;
    // Already UTC: the common case (Okta always sends `Z`); only the letters' case may change.
    return separator === 'T' && zone === 'Z' ? value : `${value.slice(0, 10)}T${value.slice(11, -1)}Z`;
  }
  if ((zone !== '+' && zone !== '-') || index + 6 !== length || value[index + 3] !== ':') return undefined;
  const offsetHours = digitsAt(value, index + 1, 2);
  const offsetMinutes = digitsAt(value, index + 4, 2);
  if (offsetHours < 0 || offsetHours > 23 || offsetMinutes < 0 || offsetMinutes > 59) return undefined;
  const sign = zone === '-' ? -1 : 1;
  const local = utcEpochMs(year, month, day, hour, minute, second);
  return formatUtc(local - sign * (offsetHours * 60 + offsetMinutes) * MS_PER_MINUTE, fraction);
}

export function isRfc3339(value: string): boolean {
  return rfc3339ToUtc(value) !== undefined;
}

/** A string that holds a JSON number, as some sources send Unix times. */
export function isNumericString(value: string): boolean {
  return NUMERIC_PATTERN.test(value);
}

/**
 * The instant of a numeric Unix time in UTC, with the precision the format carries: seconds keep
 * the decimal digits they were written with (up to 9), ms 3 digits, µs 6, ns 9. Undefined when the
 * value is outside years 0000-9999 (or not integral for the integral formats).
 */
export function unixToUtc(value: number, format: Exclude<TimeFormat, 'rfc3339'>): string | undefined {
  if (!Number.isFinite(value)) return undefined;
  switch (format) {
    case 'unix': {
      const text = String(value);
      const dot = text.indexOf('.');
      if (value >= 0 && !text.includes('e')) {
        const seconds = dot === -1 ? text : text.slice(0, dot);
        const fraction = dot === -1 ? '' : text.slice(dot + 1, dot + 10);
        return formatUtc(Number(seconds) * 1000, fraction);
      }
      // Negative or exponent notation: millisecond precision is all a double carries reliably here.
      const ms = Math.round(value * 1000);
      return formatUtc(ms, ms % 1000 === 0 ? '' : String(((ms % 1000) + 1000) % 1000).padStart(3, '0'));
    }
    case 'unix_ms': {
      if (!Number.isInteger(value)) return undefined;
      return formatUtc(value, String(((value % 1000) + 1000) % 1000).padStart(3, '0'));
    }
    case 'unix_us':
    case 'unix_ns':
      return Number.isInteger(value) ? integralUnixToUtc(BigInt(value), format) : undefined;
  }
}

/** Fractional digits of the integral Unix formats, and the units per second they count. */
const INTEGRAL_UNITS = {
  unix_ms: { digits: 3, perSecond: 1_000n },
  unix_us: { digits: 6, perSecond: 1_000_000n },
  unix_ns: { digits: 9, perSecond: 1_000_000_000n },
} as const;

/** An integer literal, as the integral Unix formats are written when sent as strings. */
const INTEGER_PATTERN = /^-?(?:0|[1-9]\d*)$/;

/** Like `unixToUtc` for an exact integer, which a string beyond 2^53 (every ns time) needs. */
function integralUnixToUtc(value: bigint, format: keyof typeof INTEGRAL_UNITS): string | undefined {
  const { digits, perSecond } = INTEGRAL_UNITS[format];
  const seconds = floorDiv(value, perSecond);
  return formatUtc(Number(seconds) * 1000, String(value - seconds * perSecond).padStart(digits, '0'));
}

function floorDiv(a: bigint, b: bigint): bigint {
  const quotient = a / b;
  return a % b < 0n ? quotient - 1n : quotient;
}

/**
 * The UTC RFC 3339 form of a timestamp field's value under its declared `timeFormats` (tried in
 * order; a string is read as RFC 3339, or as a number when the list has a numeric format).
 */
export function timestampToUtc(value: unknown, formats: readonly TimeFormat[]): string | undefined {
  for (const format of formats) {
    if (format === 'rfc3339') {
      if (typeof value === 'string') {
        const utc = rfc3339ToUtc(value);
        if (utc !== undefined) return utc;
      }
    } else if (typeof value === 'number') {
      const utc = unixToUtc(value, format);
      if (utc !== undefined) return utc;
    } else if (typeof value === 'string' && isNumericString(value)) {
      // Number() would round an integer beyond 2^53 and change the fraction digits it carries.
      const utc =
        format !== 'unix' && INTEGER_PATTERN.test(value) ? integralUnixToUtc(BigInt(value), format) : unixToUtc(Number(value), format);
      if (utc !== undefined) return utc;
    }
  }
  return undefined;
}

/** The string formats the generated validators use, by ajv format name. */
export const AJV_FORMATS: Readonly<Record<string, (value: string) => boolean>> = {
  [RFC3339_FORMAT]: isRfc3339,
  [RFC3339_OR_NUMERIC_FORMAT]: (value) => isRfc3339(value) || isNumericString(value),
  [RFC3339_OR_INTEGER_FORMAT]: (value) => isRfc3339(value) || INTEGER_PATTERN.test(value),
};
