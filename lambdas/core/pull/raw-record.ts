/**
 * A valid event's record written as the event's own JSON text with the `p_*` members appended
 * before its closing brace, instead of `JSON.stringify` of the parsed and normalised object: the
 * re-serialisation was the largest single cost of the hot path. The text is used only when it
 * stands for exactly the value that was validated; otherwise the record is serialised as before.
 *
 * - Duplicate keys: `JSON.parse` keeps the last of them, other readers (Hive's JSON SerDe, jq's
 *   streaming parser) may keep the first, so the text could carry a value that was never
 *   validated. The page scanner counts the members of the event's objects in its text
 *   (`RawEvent.members`); a parsed value with fewer had a duplicate key.
 * - Values the processor changed: it says so (`ProcessResult.standardFieldsJson` is absent when it
 *   coerced any value), and every field it sets or removes is a `p_*` field, so an event that
 *   brings a top-level `p_*` key of its own is serialised from the record.
 * - Numbers: a reader of a typed column reads the text, not what `JSON.parse` made of it. An
 *   integer written `5.0` or `5e0` passed as an integer, but an `int` column may not read it;
 *   `-0` is written `0` by `JSON.stringify`; beyond 2^53 a 64-bit reader reads another integer than
 *   was validated, and `1e400` is written `null`. So the text is used only when no number has an
 *   exponent, every number written with a fraction is not an integer (the scanner's `fractions`
 *   equal the parsed non-integers), and none is `-0` or of a magnitude of 2^53 or more: then every
 *   integer is written as `JSON.stringify` writes it, and every other number is one a float
 *   reader reads as the same double.
 * - Line breaks: the sinks write one record per line (NDJSON, the archive), and a line break
 *   outside strings is valid JSON whitespace.
 * - Size: a record must be accepted or refused by a sink's size limit (Kinesis: 1 MiB) exactly as
 *   its re-serialisation would be. The re-serialisation is never the longer one (`JSON.stringify`
 *   drops whitespace and escapes, and writes no number without an exponent longer), but the text
 *   can be; so it is used only for an event of at most 64 KiB with at most 64 Ki characters of
 *   `p_*` members: under 400 KiB as UTF-8 even if every byte was invalid and became U+FFFD, so
 *   both forms are far under the limit.
 * Whitespace and escapes left in the text are the same JSON value, so readers see the same record.
 */
import type { RawEvent } from '../okta/json-array-scanner';

/** Largest event (bytes) whose own text may become its record; see the size note above. */
export const RAW_RECORD_MAX_EVENT_BYTES = 64 * 1024;
/** Longest `p_*` members text (UTF-16 code units, at most 3 UTF-8 bytes each) appended to an event's text. */
export const RAW_RECORD_MAX_MEMBERS_LENGTH = 64 * 1024;

/** Integers from here on are not all exact doubles; the validator saw the rounded one. */
const TWO_TO_THE_53 = 2 ** 53;

/** Non-integer numbers met by the current `membersOf` walk (one walk at a time: it is synchronous). */
let nonIntegers = 0;

/**
 * Whether the event's text can become its record once the processor has only appended fields: to
 * be asked with the freshly parsed event, before the processor adds to it.
 */
export function textStandsForEvent(raw: RawEvent, text: string, event: unknown): boolean {
  if (raw.members === undefined || raw.exponents !== 0 || raw.bytes > RAW_RECORD_MAX_EVENT_BYTES) return false;
  if (text.includes('\n') || text.includes('\r')) return false;
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return false;
  nonIntegers = 0;
  let members = 0;
  for (const key in event) {
    // p_* keys are the processor's: it may replace or remove them.
    if (key.charCodeAt(0) === 0x70 && key.charCodeAt(1) === 0x5f) return false;
    const inner = membersOf((event as Record<string, unknown>)[key]);
    if (inner < 0) return false;
    members += inner + 1;
  }
  return members === raw.members && nonIntegers === raw.fractions;
}

/**
 * Members of every object in a parsed value, or -1 when a number in it is one whose text cannot
 * stand for it (see above); counts the non-integers in `nonIntegers`.
 */
function membersOf(value: unknown): number {
  if (typeof value !== 'object') {
    if (typeof value !== 'number') return 0;
    if (value >= TWO_TO_THE_53 || value <= -TWO_TO_THE_53 || (value === 0 && 1 / value < 0)) return -1;
    if (!Number.isInteger(value)) nonIntegers += 1;
    return 0;
  }
  if (value === null) return 0;
  // `for in` rather than `Object.keys`/`Object.values`: those allocate an array per object, which
  // cost a tenth of the whole hot path in garbage. It also enumerates inherited keys, but objects
  // from `JSON.parse` inherit only from `Object.prototype`, which has none.
  let members = 0;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      const inner = membersOf(value[index]);
      if (inner < 0) return -1;
      members += inner;
    }
    return members;
  }
  for (const key in value) {
    const inner = membersOf((value as Record<string, unknown>)[key]);
    if (inner < 0) return -1;
    members += inner + 1;
  }
  return members;
}

/** The record: the event's text (an object, checked by `textStandsForEvent`) with `standardFieldsJson` appended as its last members. */
export function appendMembers(text: string, standardFieldsJson: string): string {
  // The text ends with the object's closing brace (and at most whitespace after it); an object
  // without members has only whitespace between its braces, and takes no comma.
  const close = text.lastIndexOf('}');
  let last = close - 1;
  while (isJsonWhitespace(text.charCodeAt(last))) last -= 1;
  const comma = text.charCodeAt(last) === 0x7b ? '' : ',';
  // `join` copies the parts into one flat string, as `JSON.stringify` would have written it; a
  // concatenation would leave a rope that the sink's UTF-8 encoding must first copy into one,
  // cost that the benchmark would not see.
  return [text.slice(0, close), comma, standardFieldsJson, '}'].join('');
}

function isJsonWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x0a || code === 0x0d || code === 0x09;
}
