/**
 * One event's fate, the same in the puller and in the `validate` command: parsed only when its
 * size and depth allow, then validated, normalised and serialised, each step able to quarantine
 * that event alone with the reason. Nothing an event holds can stop the events after it.
 * A valid event's record is, when that is the same value, its own text with the `p_*` members
 * appended (`raw-record.ts`); otherwise `JSON.stringify` of the normalised event.
 */
import type { RawEvent } from '../okta/json-array-scanner';
import type { EventProcessor, JsonText, NormaliseContext, SerializedRecord } from '../ports';
import { RAW_RECORD_MAX_MEMBERS_LENGTH, appendMembers, textStandsForEvent } from './raw-record';

/** What one event may cost before it is quarantined unparsed, and how delivery is batched. */
export interface EventLimits {
  /**
   * Bytes of one event's JSON. Kinesis refuses a record over 1 MiB, so a larger event could only
   * be quarantined anyway; it is, as its raw text, without parsing what could be a heap bomb
   * (a few MB of `{},` is twenty times that on the heap).
   */
  readonly maxEventBytes: number;
  /**
   * Nesting of objects and arrays in one event. Okta's own fields are a few levels deep; only the
   * free-form `debugData` can go deeper, and serialising thousands of levels overflows the stack.
   */
  readonly maxEventDepth: number;
  /**
   * Records (and quarantined events) written at once. 500 is one Kinesis PutRecords; 1 MiB of
   * text keeps what a source holds in delivery small whatever its events weigh.
   */
  readonly deliveryBatchRecords: number;
  readonly deliveryBatchBytes: number;
}

export const DEFAULT_EVENT_LIMITS: EventLimits = {
  maxEventBytes: 1024 * 1024,
  maxEventDepth: 64,
  deliveryBatchRecords: 100,
  deliveryBatchBytes: 256 * 1024,
};

export type EventVerdict =
  { readonly record: SerializedRecord; readonly published: unknown } | { readonly eventJson: JsonText; readonly errors: string[] };

/** A serialised record, or the event's JSON text (a JSON string of its raw text, as bytes, when unparsed) with the reasons. */
export function examineEvent(
  raw: RawEvent,
  processor: EventProcessor,
  context: NormaliseContext,
  limits: Pick<EventLimits, 'maxEventBytes' | 'maxEventDepth'>,
): EventVerdict {
  const unparsed = (reason: string): EventVerdict => ({
    eventJson: jsonStringOfBytes(raw.views()),
    errors: [`${reason}; kept as its raw text, not parsed`],
  });
  if (raw.truncated)
    return unparsed(`the event alone is larger than the page bound (maxResponseBytes), so only its first ${raw.bytes} bytes were read`);
  if (raw.bytes > limits.maxEventBytes)
    return unparsed(`the event is ${raw.bytes} bytes, over the bound of ${limits.maxEventBytes} bytes per event`);
  if (raw.depth > limits.maxEventDepth)
    return unparsed(`the event nests ${raw.depth} levels deep, over the bound of ${limits.maxEventDepth}`);
  const text = raw.text();
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch {
    // The parser's message quotes the text; the reason says enough without it.
    return unparsed('the event is not valid JSON');
  }
  // Asked before the processor adds to the event.
  const textStands = textStandsForEvent(raw, text, event);
  let result;
  try {
    result = processor.process(event, context);
  } catch (error) {
    // A processor bug on one event must not block the source forever: the event is kept with
    // the reason, like any invalid one.
    return { eventJson: text, errors: [`the ${processor.logType} processor failed: ${describeError(error)}`] };
  }
  if (!result.ok) return { eventJson: text, errors: result.errors };
  const standardFieldsJson = result.standardFieldsJson;
  if (textStands && standardFieldsJson !== undefined && standardFieldsJson.length <= RAW_RECORD_MAX_MEMBERS_LENGTH) {
    const json = appendMembers(text, standardFieldsJson);
    return { record: { uuid: result.record.uuid, json }, published: result.record.published };
  }
  try {
    return { record: { uuid: result.record.uuid, json: JSON.stringify(result.record) }, published: result.record.published };
  } catch (error) {
    return { eventJson: text, errors: [`the record cannot be serialised: ${describeError(error)}`] };
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The JSON string holding `views`' bytes decoded as UTF-8, as UTF-8 bytes: the same bytes as
 * `Buffer.from(JSON.stringify(text))` of the decoded text (invalid UTF-8 as U+FFFD, a byte order
 * mark kept), built without that text or its JSON string ever being on V8's heap whole. A 12 MiB
 * event costs its bytes once more here, not four times (text, JSON string, the quarantine's
 * encoding of it, the SDK's checksum copy). The text is decoded and escaped a chunk at a time,
 * twice: once to measure, once to write into a buffer of exactly that size.
 */
export function jsonStringOfBytes(views: readonly Uint8Array[]): Uint8Array {
  let length = 2;
  for (const piece of escapedPieces(views)) length += Buffer.byteLength(piece, 'utf8');
  const bytes = Buffer.allocUnsafe(length);
  let at = bytes.write('"', 0, 'latin1');
  for (const piece of escapedPieces(views)) at += bytes.write(piece, at, 'utf8');
  bytes.write('"', at, 'latin1');
  return bytes;
}

/**
 * The decoded text's JSON escapes, a chunk at a time. The decoder never splits a character between
 * two pieces (it holds back a cut one), so escaping piece by piece equals escaping the whole.
 */
function* escapedPieces(views: readonly Uint8Array[]): Generator<string> {
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  for (const view of views) {
    const piece = decoder.decode(view, { stream: true });
    if (piece !== '') yield JSON.stringify(piece).slice(1, -1);
  }
  const rest = decoder.decode();
  if (rest !== '') yield JSON.stringify(rest).slice(1, -1);
}
