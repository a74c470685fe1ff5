/**
 * Reads a Panther-style YAML log schema into a checked, typed description. Anything the compiler
 * does not understand is an error naming the file and the field path, because a key silently
 * ignored (a misspelt `required`, an unsupported `validate`) would change what the pipeline
 * accepts without anybody noticing.
 */
import { parseDocument } from 'yaml';
import { isPlainObject } from '../../lambdas/core/json';
import {
  FIELD_TYPES,
  TIME_FORMATS,
  isFieldType,
  isIndicatorKind,
  isTimeFormat,
  type IndicatorKind,
  type TimeFormat,
} from '../../lambdas/core/schema/vocabulary';

/** A schema that cannot be compiled; the message names the file and the field path. */
export class SchemaCompileError extends Error {
  constructor(
    readonly file: string,
    readonly fieldPath: string | undefined,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${file}: ${fieldPath === undefined ? '' : `field ${fieldPath}: `}${detail}`, options);
    this.name = 'SchemaCompileError';
  }
}

/** The value a field holds (also the shape of an array's `element`). */
export type ValueSpec =
  | { readonly type: 'string'; readonly description?: string; readonly indicators: readonly IndicatorKind[] }
  | { readonly type: 'int' | 'smallint' | 'bigint' | 'float' | 'boolean' | 'json'; readonly description?: string }
  | {
      readonly type: 'timestamp';
      readonly description?: string;
      readonly timeFormats: readonly TimeFormat[];
      readonly isEventTime: boolean;
    }
  | { readonly type: 'object'; readonly description?: string; readonly fields: readonly FieldSpec[] }
  | { readonly type: 'array'; readonly description?: string; readonly element: ValueSpec };

export interface FieldSpec {
  readonly name: string;
  readonly required: boolean;
  readonly value: ValueSpec;
}

export interface LogSchema {
  /** The log type, e.g. `Okta.SystemLog`. */
  readonly logType: string;
  readonly description?: string;
  readonly referenceURL?: string;
  readonly version: number;
  readonly fields: readonly FieldSpec[];
  /** Where it was read from, for messages (relative to the repository). */
  readonly file: string;
}

const SCHEMA_KEYS = new Set(['schema', 'description', 'referenceURL', 'version', 'fields']);
const FIELD_KEYS = new Set([
  'name',
  'type',
  'required',
  'description',
  'indicators',
  'isEventTime',
  'timeFormat',
  'timeFormats',
  'fields',
  'element',
]);
/** An array element is a value, not a named field: no name, no `required`, no event time. */
const ELEMENT_KEYS = new Set([...FIELD_KEYS].filter((key) => !['name', 'required', 'isEventTime'].includes(key)));
const LOG_TYPE_PATTERN = /^[A-Z][A-Za-z0-9]*(\.[A-Z][A-Za-z0-9]*)+$/;

type Raw = Record<string, unknown>;

/** Parses and checks one YAML log schema. */
export function parseLogSchema(file: string, text: string): LogSchema {
  const document = parseDocument(text, { uniqueKeys: true, prettyErrors: false });
  if (document.errors.length > 0) {
    const first = document.errors[0];
    throw new SchemaCompileError(file, undefined, `not valid YAML: ${first?.message ?? 'parse error'}`, { cause: first });
  }
  let root: unknown;
  try {
    root = document.toJS();
  } catch (error) {
    // The yaml library reports an alias without its anchor only here, as a plain ReferenceError.
    throw new SchemaCompileError(file, undefined, `not valid YAML: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
    });
  }
  if (!isPlainObject(root)) throw new SchemaCompileError(file, undefined, 'must be a YAML mapping with `schema` and `fields`');
  for (const key of Object.keys(root)) {
    if (!SCHEMA_KEYS.has(key)) {
      throw new SchemaCompileError(file, undefined, `unknown top-level key "${key}" (known: ${[...SCHEMA_KEYS].join(', ')})`);
    }
  }
  const logType = root.schema;
  if (typeof logType !== 'string' || !LOG_TYPE_PATTERN.test(logType)) {
    throw new SchemaCompileError(
      file,
      undefined,
      `"schema" must be a log type name such as Okta.SystemLog, got ${JSON.stringify(logType)}`,
    );
  }
  const version = root.version ?? 0;
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0) {
    throw new SchemaCompileError(file, undefined, `"version" must be a non-negative integer, got ${JSON.stringify(version)}`);
  }
  const context: ParseContext = { file, eventTimePaths: [], openValues: new Set() };
  const fields = parseFields(context, root.fields, '');
  if (fields.length === 0) throw new SchemaCompileError(file, undefined, '"fields" must list at least one field');
  if (context.eventTimePaths.length > 1) {
    throw new SchemaCompileError(
      file,
      context.eventTimePaths[1],
      `only one field may have isEventTime (also set on ${context.eventTimePaths[0]})`,
    );
  }
  return {
    logType,
    ...optionalString(file, undefined, root, 'description'),
    ...optionalString(file, undefined, root, 'referenceURL'),
    version,
    fields,
    file,
  };
}

interface ParseContext {
  readonly file: string;
  readonly eventTimePaths: string[];
  /** The field and element mappings being read: a YAML alias can make one contain itself. */
  readonly openValues: Set<Raw>;
}

function optionalString(
  file: string,
  path: string | undefined,
  raw: Raw,
  key: 'description' | 'referenceURL',
): { description?: string; referenceURL?: string } {
  const value = raw[key];
  if (value === undefined || value === null) return {};
  if (typeof value !== 'string') throw new SchemaCompileError(file, path, `"${key}" must be a string, got ${JSON.stringify(value)}`);
  return { [key]: value.trim() };
}

function parseFields(context: ParseContext, raw: unknown, parentPath: string): FieldSpec[] {
  const where = parentPath === '' ? undefined : parentPath;
  if (!Array.isArray(raw)) throw new SchemaCompileError(context.file, where, '"fields" must be a list of fields');
  const seen = new Set<string>();
  return raw.map((item: unknown, index) => {
    if (!isPlainObject(item) || typeof item.name !== 'string' || item.name === '') {
      const at = `${parentPath === '' ? '' : `${parentPath}.`}<field #${index + 1}>`;
      throw new SchemaCompileError(context.file, at, 'every field needs a non-empty string "name"');
    }
    const name = item.name;
    const path = parentPath === '' ? name : `${parentPath}.${name}`;
    if (seen.has(name)) throw new SchemaCompileError(context.file, path, 'declared twice');
    seen.add(name);
    if (parentPath === '' && name.startsWith('p_')) {
      throw new SchemaCompileError(context.file, path, 'names starting with "p_" are reserved for the standard fields the normaliser adds');
    }
    for (const key of Object.keys(item)) {
      if (!FIELD_KEYS.has(key))
        throw new SchemaCompileError(context.file, path, `unknown key "${key}" (known: ${[...FIELD_KEYS].join(', ')})`);
    }
    const required = item.required ?? false;
    if (typeof required !== 'boolean')
      throw new SchemaCompileError(context.file, path, `"required" must be true or false, got ${JSON.stringify(required)}`);
    const isEventTime = item.isEventTime ?? false;
    if (typeof isEventTime !== 'boolean')
      throw new SchemaCompileError(context.file, path, `"isEventTime" must be true or false, got ${JSON.stringify(isEventTime)}`);
    if (isEventTime) {
      if (item.type !== 'timestamp') throw new SchemaCompileError(context.file, path, 'isEventTime is only allowed on a timestamp field');
      if (path.includes('[]'))
        throw new SchemaCompileError(context.file, path, 'isEventTime cannot be inside an array (an event has one event time)');
      context.eventTimePaths.push(path);
    }
    return { name, required, value: parseValue(context, item, path, isEventTime) };
  });
}

function parseValue(context: ParseContext, raw: Raw, path: string, isEventTime: boolean): ValueSpec {
  if (context.openValues.has(raw))
    throw new SchemaCompileError(context.file, path, 'contains itself through a YAML alias; a schema must be finite');
  context.openValues.add(raw);
  try {
    return parseOpenValue(context, raw, path, isEventTime);
  } finally {
    context.openValues.delete(raw);
  }
}

function parseOpenValue(context: ParseContext, raw: Raw, path: string, isEventTime: boolean): ValueSpec {
  const type = raw.type;
  if (typeof type !== 'string' || !isFieldType(type)) {
    throw new SchemaCompileError(context.file, path, `unknown type ${JSON.stringify(type)} (known: ${FIELD_TYPES.join(', ')})`);
  }
  const fieldType = type;
  const description = optionalString(context.file, path, raw, 'description');
  const only = (key: string, allowedFor: string): void => {
    if (raw[key] !== undefined)
      throw new SchemaCompileError(context.file, path, `"${key}" is only allowed on ${allowedFor} fields, not ${fieldType}`);
  };
  if (fieldType !== 'string') only('indicators', 'string');
  if (fieldType !== 'timestamp') {
    only('timeFormat', 'timestamp');
    only('timeFormats', 'timestamp');
  }
  if (fieldType !== 'object') only('fields', 'object');
  if (fieldType !== 'array') only('element', 'array');
  switch (fieldType) {
    case 'string':
      return { type: 'string', ...description, indicators: parseIndicators(context, raw.indicators, path) };
    case 'timestamp':
      return { type: 'timestamp', ...description, timeFormats: parseTimeFormats(context, raw, path), isEventTime };
    case 'object':
      return { type: 'object', ...description, fields: parseFields(context, raw.fields, path) };
    case 'array': {
      const element = raw.element;
      const elementPath = `${path}[]`;
      if (!isPlainObject(element)) throw new SchemaCompileError(context.file, path, 'an array needs an "element" mapping with a "type"');
      for (const key of Object.keys(element)) {
        if (!ELEMENT_KEYS.has(key))
          throw new SchemaCompileError(
            context.file,
            elementPath,
            `unknown key "${key}" for an array element (known: ${[...ELEMENT_KEYS].join(', ')})`,
          );
      }
      return { type: 'array', ...description, element: parseValue(context, element, elementPath, false) };
    }
    case 'int':
    case 'smallint':
    case 'bigint':
    case 'float':
    case 'boolean':
    case 'json':
      return { type: fieldType, ...description };
  }
}

function parseIndicators(context: ParseContext, raw: unknown, path: string): IndicatorKind[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new SchemaCompileError(context.file, path, '"indicators" must be a list such as [ip]');
  return raw.map((kind: unknown) => {
    if (typeof kind !== 'string' || !isIndicatorKind(kind)) {
      throw new SchemaCompileError(context.file, path, `unknown indicator ${JSON.stringify(kind)}`);
    }
    return kind;
  });
}

function parseTimeFormats(context: ParseContext, raw: Raw, path: string): TimeFormat[] {
  const single = raw.timeFormat;
  const list = raw.timeFormats;
  if (single !== undefined && list !== undefined)
    throw new SchemaCompileError(context.file, path, 'use either "timeFormat" or "timeFormats", not both');
  const formats: unknown[] = single !== undefined ? [single] : Array.isArray(list) ? list : [];
  if (list !== undefined && !Array.isArray(list))
    throw new SchemaCompileError(context.file, path, '"timeFormats" must be a list such as [rfc3339, unix_ms]');
  if (formats.length === 0) throw new SchemaCompileError(context.file, path, 'a timestamp needs "timeFormat" (or "timeFormats")');
  return formats.map((format) => {
    if (typeof format !== 'string' || !isTimeFormat(format)) {
      throw new SchemaCompileError(context.file, path, `unknown time format ${JSON.stringify(format)} (known: ${TIME_FORMATS.join(', ')})`);
    }
    return format;
  });
}
