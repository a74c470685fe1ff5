/**
 * Validation and normalisation of one log type: the `EventProcessor` the pull core calls for
 * every event.
 *
 * Hot path: the precompiled first-error validator accepts the event as it is, and the record is
 * the event plus the `p_*` fields (no copy, no re-serialisation).
 * Slow path, only for events that fail: each `type` error that a lossless coercion can fix
 * (0 → "0", "42" → 42) is fixed in place, first one at a time with the fast validator, then (for
 * many errors, or errors that are not coercible) in one pass of the all-errors validator; what
 * still fails becomes the reasons, one per field, and every coerced value is put back.
 *
 * Ownership: `process` takes ownership of a VALID event. Its record is the event object itself
 * with the `p_*` fields added (and any coerced values), because copying ~1.3 KB per event would
 * cost a tenth of the whole hot path. Pass an event you will not use again (the puller parses
 * each page afresh). An INVALID event is returned to its received state (values coerced on the
 * way are put back), so it can be quarantined exactly as it was received.
 */
import { randomBytes } from 'node:crypto';
import { isPlainObject } from '../json';
import type { EventProcessor, NormaliseContext, OutputRecord, ProcessResult } from '../ports';
import type { GeneratedLogType, ValidatorError } from './generated-log-type';
import { compileIndicators, uniqueSorted } from './indicators';
import { describeErrors } from './messages';
import { pointerSegments, readAnnotation, readPlan, schemaNodeAt, valueAt } from './plan';
import { coerceLosslessly } from './coercion';
import { timestampToUtc } from './time-formats';
import type { PantherAnnotation } from './vocabulary';

/** Bytes of randomness in each processor's `p_row_id` prefix: unique across containers and runs. */
const ROW_ID_PREFIX_BYTES = 8;
/**
 * Coercions tried one at a time with the fast validator before switching to the all-errors pass.
 * Real events need at most a few (Okta's spec examples: 2); past this the batch pass is cheaper.
 */
const MAX_SINGLE_COERCIONS = 4;

/** Builds the processor for one generated log type. */
export function createEventProcessor(logType: string, generated: GeneratedLogType): EventProcessor {
  const plan = readPlan(generated.schema);
  const indicators = compileIndicators(plan.indicators);
  const indicatorFields = indicators.fields;
  const eventTime = plan.eventTime;
  const eventTimeIsRfc3339 = eventTime !== undefined && eventTime.formats.length === 1 && eventTime.formats[0] === 'rfc3339';
  const { validateFirst, validateAll } = generated;

  const declaredBySchemaPath = new Map<string, PantherAnnotation | undefined>();
  const rowIdPrefix = randomBytes(ROW_ID_PREFIX_BYTES).toString('hex');
  let rowCounter = 0;
  let lastParseTime = Number.NaN;
  let lastParseTimeText = '';
  // The standard fields as JSON members (see `standardFieldsJson`): what one page or one source
  // shares is written once, not per event.
  const logTypeMember = `"p_log_type":${JSON.stringify(logType)}`;
  const indicatorMembers = indicatorFields.map((field) => `,${JSON.stringify(field)}:`);
  let parseTimeMember = '';
  let lastSourceId: string | undefined;
  let lastSourceLabel: string | undefined;
  let sourceMembers = '';

  function parseTimeText(parseTime: number): string {
    // One pull stamps a whole page with the same time: format it once.
    if (parseTime !== lastParseTime) {
      lastParseTime = parseTime;
      lastParseTimeText = new Date(parseTime).toISOString();
      parseTimeMember = `,"p_parse_time":${JSON.stringify(lastParseTimeText)}`;
    }
    return lastParseTimeText;
  }

  function sourceMembersOf(context: NormaliseContext): string {
    if (context.sourceId !== lastSourceId || context.sourceLabel !== lastSourceLabel) {
      lastSourceId = context.sourceId;
      lastSourceLabel = context.sourceLabel;
      sourceMembers = `,"p_source_id":${JSON.stringify(lastSourceId)},"p_source_label":${JSON.stringify(lastSourceLabel)}`;
    }
    return sourceMembers;
  }

  /** `p_event_time`, the parse time when the event has none, or undefined when it cannot be converted. */
  function eventTimeOf(event: Record<string, unknown>, parseTime: string): string | undefined {
    if (eventTime === undefined) return parseTime;
    let value: unknown = event;
    for (const step of eventTime.steps) {
      if (!isPlainObject(value)) return parseTime;
      value = value[step];
    }
    if (value === undefined || value === null) return parseTime;
    // Already validated: a `T`...`Z` RFC 3339 string is UTC as it stands (Okta's own form).
    if (eventTimeIsRfc3339 && typeof value === 'string' && value.charCodeAt(10) === 0x54 && value.charCodeAt(value.length - 1) === 0x5a) {
      return value;
    }
    return timestampToUtc(value, eventTime.formats);
  }

  /** The record of a valid event; `undo` holds the coercions made to it, put back if it is refused after all. */
  function normalise(event: Record<string, unknown>, context: NormaliseContext, undo?: readonly Replacement[]): ProcessResult {
    const parseTime = parseTimeText(context.parseTime);
    const eventTimeText = eventTimeOf(event, parseTime);
    if (eventTimeText === undefined) {
      if (undo !== undefined) restore(undo);
      return {
        ok: false,
        errors: [`${eventTime?.path ?? 'event time'}: cannot be converted to a UTC timestamp between years 0000 and 9999`],
      };
    }
    rowCounter += 1;
    // The event becomes the record (see the ownership note at the top of this file).
    const record = event;
    const rowId = `${rowIdPrefix}${rowCounter.toString(36)}`;
    record.p_log_type = logType;
    record.p_event_time = eventTimeText;
    record.p_parse_time = parseTime;
    record.p_row_id = rowId;
    record.p_source_id = context.sourceId;
    record.p_source_label = context.sourceLabel;
    // Only an event none of whose values was coerced can be written as its own text plus these.
    // The row id is hex and base-36 digits: nothing in it needs escaping.
    let members =
      undo === undefined
        ? `${logTypeMember},"p_event_time":${JSON.stringify(eventTimeText)}${parseTimeMember},"p_row_id":"${rowId}"${sourceMembersOf(context)}`
        : undefined;
    // A value the event brought along in one of these fields (forged, or left from an earlier run)
    // would reach the indicator index unchecked: each holds what this event's own fields say, or nothing.
    if (indicatorFields.length > 0) {
      const buckets = indicators.collect(event);
      for (let index = 0; index < indicatorFields.length; index += 1) {
        const field = indicatorFields[index] as string;
        const values = buckets[index];
        if (values !== undefined) {
          const sorted = uniqueSorted(values);
          record[field] = sorted;
          if (members !== undefined) members += `${indicatorMembers[index] as string}${JSON.stringify(sorted)}`;
        } else if (record[field] !== undefined) delete record[field];
      }
    }
    // The schema guarantees the event's own fields; the p_* fields were just set.
    return { ok: true, record: record as OutputRecord, standardFieldsJson: members };
  }

  /** The `x-panther` declaration of the schema node an error's `schemaPath` points into. */
  function declaredAt(schemaPath: string): PantherAnnotation | undefined {
    let declared = declaredBySchemaPath.get(schemaPath);
    if (declared === undefined && !declaredBySchemaPath.has(schemaPath)) {
      declared = readAnnotation(schemaNodeAt(generated.schema, schemaPath));
      declaredBySchemaPath.set(schemaPath, declared);
    }
    return declared;
  }

  /**
   * Coerces, in place, the value an error points at, noting what it replaced in `undo`; false
   * when it cannot be coerced losslessly (or the error is not about a value's type).
   */
  function coerceInPlace(event: unknown, error: ValidatorError, undo: Replacement[]): boolean {
    if (error.keyword !== 'type') return false;
    const declared = declaredAt(error.schemaPath);
    if (declared === undefined) return false;
    const segments = pointerSegments(error.instancePath);
    // The event itself has the wrong type: nothing that holds it can be changed.
    if (segments.length === 0) return false;
    const key = segments.pop() as string;
    const container = valueAt(event, segments);
    if (typeof container !== 'object' || container === null) return false;
    const previous = readSlot(container, key);
    const value = coerceLosslessly(previous, declared);
    if (value === undefined) return false;
    undo.push({ container, key, previous });
    writeSlot(container, key, value);
    return true;
  }

  function reprocess(event: unknown, context: NormaliseContext): ProcessResult {
    // Values are coerced in place and put back if the event stays invalid: copying the objects
    // along each path cost more than the rest of the slow path.
    const undo: Replacement[] = [];
    // Events that only need a coercion or two (Okta's spec examples send `version: 0`): fix the
    // first error and re-check with the fast validator.
    for (let attempt = 0; attempt < MAX_SINGLE_COERCIONS; attempt += 1) {
      const error = validateFirst.errors?.[0];
      if (error === undefined || !coerceInPlace(event, error, undo)) break;
      if (validateFirst(event)) return normalise(event as Record<string, unknown>, context, undo);
    }
    // Otherwise collect every error (this call fails whenever the fast validator did), coerce what
    // can be, and explain what is left.
    validateAll(event);
    const coercedBefore = undo.length;
    for (const error of validateAll.errors ?? []) coerceInPlace(event, error, undo);
    if (undo.length > coercedBefore && validateAll(event)) return normalise(event as Record<string, unknown>, context, undo);
    const errors = describeErrors(validateAll.errors ?? [], event, declaredAt);
    restore(undo);
    return { ok: false, errors };
  }

  return {
    logType,
    process(event: unknown, context: NormaliseContext): ProcessResult {
      if (validateFirst(event)) return normalise(event as Record<string, unknown>, context);
      return reprocess(event, context);
    },
  };
}

/** A value replaced by a coercion: where it was and what it was. */
interface Replacement {
  readonly container: object;
  readonly key: string;
  readonly previous: unknown;
}

function readSlot(container: object, key: string): unknown {
  return Array.isArray(container) ? container[Number(key)] : (container as Record<string, unknown>)[key];
}

function writeSlot(container: object, key: string, value: unknown): void {
  if (Array.isArray(container)) container[Number(key)] = value;
  else (container as Record<string, unknown>)[key] = value;
}

/**
 * Puts every replaced value back, newest first, so that a refused event is exactly as received
 * (an existing key keeps its place in the object, so even its serialisation is unchanged).
 */
function restore(undo: readonly Replacement[]): void {
  for (let index = undo.length - 1; index >= 0; index -= 1) {
    const { container, key, previous } = undo[index] as Replacement;
    writeSlot(container, key, previous);
  }
}
