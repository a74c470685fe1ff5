/**
 * Validation and normalisation of one log type: the `EventProcessor` the pull core calls for
 * every event.
 *
 * Hot path: the precompiled first-error validator accepts the event as it is, and the record is
 * a shallow copy of it plus the `p_*` fields (no deep clone, no re-serialisation).
 * Slow path, only for events that fail: a deep copy is validated with the all-errors validator,
 * every `type` error that a lossless coercion can fix is fixed in the copy (0 → "0", "42" → 42),
 * and the copy is validated again; what still fails becomes the reasons, one per field.
 *
 * The caller's event is never modified. A record from the hot path shares nested objects with
 * the event it came from (the top level is a new object); treat both as read-only.
 */
import { randomBytes } from 'node:crypto';
import type { EventProcessor, NormaliseContext, OutputRecord, ProcessResult } from '../ports';
import type { GeneratedLogType, ValidatorError } from './generated-log-type';
import { collectIndicator, indicatorFieldsOf, uniqueSorted, type IndicatorBuckets } from './indicators';
import { describeErrors, unescapePointer } from './messages';
import { readAnnotation, readPlan, type FieldStep, type IndicatorPlan } from './plan';
import { coerceLosslessly } from './coercion';
import { timestampToUtc } from './time-formats';

/** Bytes of randomness in each processor's `p_row_id` prefix: unique across containers and runs. */
const ROW_ID_PREFIX_BYTES = 8;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Builds the processor for one generated log type. */
export function createEventProcessor(logType: string, generated: GeneratedLogType): EventProcessor {
  const plan = readPlan(generated.schema);
  const indicatorFields = indicatorFieldsOf(plan.indicators.map((indicator) => indicator.kind));
  const eventTime = plan.eventTime;
  const eventTimeIsRfc3339 = eventTime !== undefined && eventTime.formats.length === 1 && eventTime.formats[0] === 'rfc3339';
  const { validateFirst, validateAll } = generated;

  const rowIdPrefix = randomBytes(ROW_ID_PREFIX_BYTES).toString('hex');
  let rowCounter = 0;
  let lastParseTime = Number.NaN;
  let lastParseTimeText = '';

  function parseTimeText(parseTime: number): string {
    // One pull stamps a whole page with the same time: format it once.
    if (parseTime !== lastParseTime) {
      lastParseTime = parseTime;
      lastParseTimeText = new Date(parseTime).toISOString();
    }
    return lastParseTimeText;
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

  function normalise(event: Record<string, unknown>, context: NormaliseContext): ProcessResult {
    const parseTime = parseTimeText(context.parseTime);
    const eventTimeText = eventTimeOf(event, parseTime);
    if (eventTimeText === undefined) {
      return { ok: false, errors: [`${eventTime?.path ?? 'event time'}: cannot be converted to a UTC timestamp between years 0000 and 9999`] };
    }
    rowCounter += 1;
    const record: Record<string, unknown> = {
      ...event,
      p_log_type: logType,
      p_event_time: eventTimeText,
      p_parse_time: parseTime,
      p_row_id: `${rowIdPrefix}${rowCounter.toString(36)}`,
      p_source_id: context.sourceId,
      p_source_label: context.sourceLabel,
    };
    if (plan.indicators.length > 0) {
      const buckets: IndicatorBuckets = {};
      for (const indicator of plan.indicators) collectAlong(event, indicator, 0, buckets);
      for (const field of indicatorFields) {
        const values = buckets[field];
        if (values !== undefined) record[field] = uniqueSorted(values);
      }
    }
    // The schema guarantees the event's own fields; the p_* fields were just set.
    return { ok: true, record: record as OutputRecord };
  }

  function reprocess(event: unknown, context: NormaliseContext): ProcessResult {
    let copy: unknown;
    try {
      copy = structuredClone(event);
    } catch {
      return { ok: false, errors: ['event: is not a JSON value'] };
    }
    const valid = validateAll(copy);
    let coerced = false;
    for (const error of validateAll.errors ?? []) {
      if (error.keyword === 'type' && applyCoercion(copy, error)) coerced = true;
    }
    if (valid || (coerced && validateAll(copy))) return normalise(copy as Record<string, unknown>, context);
    return { ok: false, errors: describeErrors(validateAll.errors ?? [], copy) };
  }

  return {
    logType,
    process(event: unknown, context: NormaliseContext): ProcessResult {
      if (validateFirst(event)) return normalise(event as Record<string, unknown>, context);
      return reprocess(event, context);
    },
  };
}

/** Follows an indicator's path (through arrays) and collects every string found at its end. */
function collectAlong(value: unknown, indicator: IndicatorPlan, index: number, buckets: IndicatorBuckets): void {
  if (index === indicator.steps.length) {
    if (typeof value === 'string') collectIndicator(buckets, indicator.kind, value);
    return;
  }
  const step: FieldStep = indicator.steps[index];
  if (step === null) {
    if (Array.isArray(value)) for (const element of value) collectAlong(element, indicator, index + 1, buckets);
  } else if (isPlainObject(value)) {
    collectAlong(value[step], indicator, index + 1, buckets);
  }
}

/** Replaces the value an error points at with its lossless coercion; false when there is none. */
function applyCoercion(root: unknown, error: ValidatorError): boolean {
  const annotation = readAnnotation(error.parentSchema);
  if (annotation === undefined) return false;
  const coerced = coerceLosslessly(error.data, annotation);
  if (coerced === undefined) return false;
  const segments = error.instancePath.split('/').slice(1).map(unescapePointer);
  const last = segments.pop();
  if (last === undefined) return false;
  let container: unknown = root;
  for (const segment of segments) {
    if (typeof container !== 'object' || container === null) return false;
    container = (container as Record<string, unknown>)[segment];
  }
  if (typeof container !== 'object' || container === null) return false;
  (container as Record<string, unknown>)[last] = coerced;
  return true;
}
