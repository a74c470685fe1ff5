/**
 * Turns a checked Panther log schema into a JSON Schema (draft-07) with the semantics real data
 * needs: a non-required field may be absent or null, a required one must be present and
 * non-null, unknown fields are allowed (kept, never stripped), `json` accepts anything.
 * Every node carries an `x-panther` annotation with the Panther declaration it came from, which
 * the runtime reads for indicators, the event time and lossless coercion.
 */
import {
  ANNOTATION_KEYWORD,
  INTEGER_RANGES,
  RFC3339_FORMAT,
  RFC3339_OR_INTEGER_FORMAT,
  RFC3339_OR_NUMERIC_FORMAT,
  type PantherAnnotation,
  type TimeFormat,
} from '../../lambdas/core/schema/vocabulary';
import type { FieldSpec, LogSchema, ValueSpec } from './panther-schema';

export type JsonSchema = { [keyword: string]: unknown };

export function toJsonSchema(schema: LogSchema): JsonSchema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: schema.logType,
    ...(schema.description === undefined ? {} : { description: schema.description }),
    ...(schema.referenceURL === undefined ? {} : { $comment: `Reference: ${schema.referenceURL}` }),
    ...objectBody(schema.fields, false),
  };
}

function objectBody(fields: readonly FieldSpec[], nullable: boolean): JsonSchema {
  const required = fields.filter((field) => field.required).map((field) => field.name);
  return {
    type: nullable ? ['object', 'null'] : 'object',
    properties: Object.fromEntries(fields.map((field) => [field.name, valueSchema(field.value, !field.required)])),
    ...(required.length === 0 ? {} : { required }),
  };
}

function withType(types: readonly string[], nullable: boolean): { type: string | string[] } {
  const all = nullable ? [...types, 'null'] : [...types];
  return { type: all.length === 1 ? (all[0] as string) : all };
}

function annotation(value: ValueSpec): PantherAnnotation {
  switch (value.type) {
    case 'string':
      return value.indicators.length === 0 ? { type: 'string' } : { type: 'string', indicators: value.indicators };
    case 'timestamp':
      return value.isEventTime
        ? { type: 'timestamp', timeFormats: value.timeFormats, isEventTime: true }
        : { type: 'timestamp', timeFormats: value.timeFormats };
    case 'boolean':
    case 'int':
    case 'smallint':
    case 'bigint':
    case 'float':
    case 'json':
    case 'object':
    case 'array':
      return { type: value.type };
  }
}

/** The JSON Schema of one value; `nullable` for fields that are not required. */
function valueSchema(value: ValueSpec, nullable: boolean): JsonSchema {
  const described = value.description === undefined ? {} : { description: value.description };
  const annotated = { [ANNOTATION_KEYWORD]: annotation(value) };
  switch (value.type) {
    case 'string':
      return { ...withType(['string'], nullable), ...described, ...annotated };
    case 'boolean':
      return { ...withType(['boolean'], nullable), ...described, ...annotated };
    case 'float':
      return { ...withType(['number'], nullable), ...described, ...annotated };
    case 'int':
    case 'smallint':
    case 'bigint': {
      const range = INTEGER_RANGES[value.type];
      return {
        ...withType(['integer'], nullable),
        minimum: range.minimum,
        exclusiveMaximum: range.exclusiveMaximum,
        ...described,
        ...annotated,
      };
    }
    case 'timestamp':
      return { ...timestampSchema(value.timeFormats, nullable), ...described, ...annotated };
    case 'object':
      return { ...objectBody(value.fields, nullable), ...described, ...annotated };
    case 'array':
      // Elements are values, not fields: never null, except `json` elements, which accept anything.
      return {
        ...withType(['array'], nullable),
        items: valueSchema(value.element, value.element.type === 'json'),
        ...described,
        ...annotated,
      };
    case 'json':
      // Any JSON value; a required one only has to be present and non-null.
      return { ...(nullable ? {} : { not: { type: 'null' } }), ...described, ...annotated };
  }
}

/**
 * rfc3339 is a string with our own format; the Unix forms are JSON numbers (integral for ms, µs
 * and ns). A list mixing both accepts either JSON type, and a string may then also hold a number.
 */
function timestampSchema(formats: readonly TimeFormat[], nullable: boolean): JsonSchema {
  const hasRfc3339 = formats.includes('rfc3339');
  const numeric = formats.filter((format) => format !== 'rfc3339');
  const numberType = numeric.includes('unix') ? 'number' : 'integer';
  if (numeric.length === 0) return { ...withType(['string'], nullable), format: RFC3339_FORMAT };
  if (!hasRfc3339) return withType([numberType], nullable);
  return {
    ...withType(['string', numberType], nullable),
    format: numberType === 'number' ? RFC3339_OR_NUMERIC_FORMAT : RFC3339_OR_INTEGER_FORMAT,
  };
}
