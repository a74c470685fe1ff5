/**
 * Turns validator errors into reasons a person can act on: `"<field path>: <what is wrong>"`,
 * with paths such as `actor.id` or `target[0].type`, the declared type, and what arrived.
 */
import type { ValidatorError } from './generated-log-type';
import { pointerSegments, valueAt } from './plan';
import { INTEGER_RANGES, type PantherAnnotation, type TimeFormat } from './vocabulary';

/** Longest excerpt of an offending string quoted in a reason. */
const MAX_QUOTED_LENGTH = 80;

const TIME_FORMAT_TEXT: Readonly<Record<TimeFormat, string>> = {
  rfc3339: 'an RFC 3339 timestamp such as 2024-05-01T12:34:56.789Z',
  unix: 'a Unix time in seconds',
  unix_ms: 'a Unix time in milliseconds',
  unix_us: 'a Unix time in microseconds',
  unix_ns: 'a Unix time in nanoseconds',
};

function expected(declared: PantherAnnotation | undefined): string {
  switch (declared?.type) {
    case undefined:
      return 'a JSON object';
    case 'string':
      return 'a string';
    case 'int':
    case 'smallint':
    case 'bigint':
      return `an integer from ${INTEGER_RANGES[declared.type].label} (${declared.type})`;
    case 'float':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'timestamp':
      return (declared.timeFormats ?? ['rfc3339']).map((format) => TIME_FORMAT_TEXT[format]).join(' or ');
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    case 'json':
      return 'a JSON value';
  }
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string': {
      const quoted = JSON.stringify(value.length > MAX_QUOTED_LENGTH ? `${value.slice(0, MAX_QUOTED_LENGTH)}...` : value);
      return `string ${quoted}`;
    }
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'an object';
    case 'bigint':
    case 'function':
    case 'symbol':
    case 'undefined':
      break;
  }
  return typeof value;
}

/** `target[0].type` for `/target/0/type`, reading the data to tell array indexes from keys. */
export function displayPath(root: unknown, pointer: string): string {
  if (pointer === '') return 'event';
  let path = '';
  let current: unknown = root;
  for (const segment of pointerSegments(pointer)) {
    if (Array.isArray(current)) {
      path += `[${segment}]`;
      current = current[Number(segment)];
    } else {
      path += path === '' ? segment : `.${segment}`;
      current = typeof current === 'object' && current !== null ? (current as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}

/** Finds the Panther declaration of the schema node an error's `schemaPath` points into. */
export type DeclarationLookup = (schemaPath: string) => PantherAnnotation | undefined;

function describeError(error: ValidatorError, root: unknown, declaredAt: DeclarationLookup): string {
  const path = displayPath(root, error.instancePath);
  const declared = declaredAt(error.schemaPath);
  const data = valueAt(root, pointerSegments(error.instancePath));
  switch (error.keyword) {
    case 'required': {
      const missing = String(error.params.missingProperty);
      return `${path === 'event' ? missing : `${path}.${missing}`}: is required`;
    }
    case 'type':
    case 'not':
      return data === null
        ? `${path}: is required and must not be null`
        : `${path}: must be ${expected(declared)}, got ${describeValue(data)}`;
    case 'format':
    case 'minimum':
    case 'exclusiveMaximum':
      return `${path}: must be ${expected(declared)}, got ${describeValue(data)}`;
    default:
      return `${path}: fails the "${error.keyword}" check, got ${describeValue(data)}`;
  }
}

/** One reason per error, without repeats, in the validator's order. */
export function describeErrors(errors: readonly ValidatorError[], root: unknown, declaredAt: DeclarationLookup): string[] {
  return [...new Set(errors.map((error) => describeError(error, root, declaredAt)))];
}
