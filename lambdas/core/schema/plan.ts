/**
 * What the processor needs to know about a log type beyond validation, read once from the
 * `x-panther` annotations of its generated JSON Schema: where the event time is and which fields
 * feed which indicators.
 */
import { isPlainObject } from '../json';
import {
  ANNOTATION_KEYWORD,
  isFieldType,
  isIndicatorKind,
  isTimeFormat,
  type IndicatorKind,
  type PantherAnnotation,
  type TimeFormat,
} from './vocabulary';

/** A property name, or `null` for "every element of this array". */
export type FieldStep = string | null;

export interface IndicatorPlan {
  readonly kind: IndicatorKind;
  readonly steps: readonly FieldStep[];
}

export interface EventTimePlan {
  /** Display path, e.g. `published`. */
  readonly path: string;
  readonly steps: readonly string[];
  readonly formats: readonly TimeFormat[];
}

export interface LogTypePlan {
  readonly eventTime?: EventTimePlan;
  readonly indicators: readonly IndicatorPlan[];
}

function stringsOf<T extends string>(value: unknown, guard: (item: string) => item is T): T[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const items: T[] = [];
  for (const item of value) {
    if (typeof item !== 'string' || !guard(item)) return undefined;
    items.push(item);
  }
  return items;
}

/** The `x-panther` annotation of a JSON Schema node, when it has a well-formed one. */
export function readAnnotation(node: unknown): PantherAnnotation | undefined {
  if (!isPlainObject(node)) return undefined;
  const raw = node[ANNOTATION_KEYWORD];
  if (!isPlainObject(raw) || typeof raw.type !== 'string' || !isFieldType(raw.type)) return undefined;
  const timeFormats = stringsOf(raw.timeFormats, isTimeFormat);
  const indicators = stringsOf(raw.indicators, isIndicatorKind);
  return {
    type: raw.type,
    ...(timeFormats === undefined ? {} : { timeFormats }),
    ...(raw.isEventTime === true ? { isEventTime: true } : {}),
    ...(indicators === undefined ? {} : { indicators }),
  };
}

/** Walks a generated JSON Schema and collects the event time and the indicator paths. */
export function readPlan(schema: unknown): LogTypePlan {
  const indicators: IndicatorPlan[] = [];
  let eventTime: EventTimePlan | undefined;
  function walk(node: unknown, steps: FieldStep[]): void {
    if (!isPlainObject(node)) return;
    const annotation = readAnnotation(node);
    if (annotation?.indicators !== undefined) {
      for (const kind of annotation.indicators) indicators.push({ kind, steps });
    }
    if (annotation?.isEventTime === true && annotation.timeFormats !== undefined && !steps.includes(null)) {
      const names = steps.filter((step): step is string => step !== null);
      eventTime = { path: names.join('.'), steps: names, formats: annotation.timeFormats };
    }
    if (isPlainObject(node.properties)) {
      for (const [name, child] of Object.entries(node.properties)) walk(child, [...steps, name]);
    }
    if (node.items !== undefined) walk(node.items, [...steps, null]);
  }
  walk(schema, []);
  return eventTime === undefined ? { indicators } : { eventTime, indicators };
}

/** One JSON Pointer segment as the key it names (RFC 6901: `~1` is `/`, `~0` is `~`). */
function unescapePointer(segment: string): string {
  return segment.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** `/target/0/type` → `['target', '0', 'type']`; `''` (the whole document) → `[]`. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  const segments = pointer.split('/').slice(1);
  // Escapes are rare (a key holding `/` or `~`): skip the two replacements per segment without one.
  return pointer.includes('~') ? segments.map(unescapePointer) : segments;
}

/** The value at `segments` inside `root` (array indexes as strings), or undefined. */
export function valueAt(root: unknown, segments: readonly string[]): unknown {
  let current = root;
  for (const segment of segments) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = Array.isArray(current) ? current[Number(segment)] : (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * The schema node holding the keyword an error's `schemaPath` names, e.g.
 * `#/properties/target/items/properties/id/type` → the node of `target[].id`.
 */
export function schemaNodeAt(schema: unknown, schemaPath: string): unknown {
  const segments = pointerSegments(schemaPath.startsWith('#') ? schemaPath.slice(1) : schemaPath);
  return valueAt(schema, segments.slice(0, -1));
}
