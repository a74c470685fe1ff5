/**
 * The archive table of a log type, generated from the same checked YAML schema as the validators:
 * the Glue (Athena) columns and the column types the local `query` command gives DuckDB, so that
 * one SQL text runs on S3 through Athena and on a local archive directory alike.
 *
 * Mapping (YAML type -> Athena/Hive type -> DuckDB type):
 * - string, json -> string -> VARCHAR. A `json` field holds any JSON value; both engines return
 *   an object or array as its JSON text, so nothing is dropped to fit a column.
 * - timestamp -> string -> VARCHAR. The archive keeps the event's own text. The OpenX JSON SerDe
 *   parses a timestamp column only as `yyyy-MM-dd'T'HH:mm:ss'Z'` (no fraction) or
 *   `yyyy-MM-dd HH:mm:ss` (rcongiu/Hive-JSON-Serde, ParsePrimitiveUtils.parseTimestamp), so Okta's
 *   `2024-01-01T00:00:00.123Z` would not read as a timestamp. RFC 3339 UTC text with second-precision
 *   bounds such as '2024-01-01T00:00:00' compares in time order, which is what the saved queries do.
 * - int, smallint, bigint, boolean -> the same; float -> double -> DOUBLE.
 * - object -> struct<...> -> STRUCT(...); array -> array<...> -> ...[].
 * Plus the standard `p_*` fields the normaliser adds, and the partition column `dt`.
 *
 * Athena lower-cases column names, and the OpenX SerDe lower-cases JSON keys before matching them
 * (its `case.insensitive` property, default true: https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html),
 * so Glue gets lower-case names. DuckDB's `read_json` matches keys exactly, so it gets the YAML's
 * own spelling; its identifiers are case-insensitive, so `actor.alternateId` works in both.
 */
import { INDICATOR_FIELDS } from '../../lambdas/core/schema/vocabulary';
import { SchemaCompileError, type FieldSpec, type LogSchema, type ValueSpec } from './panther-schema';

/** The partition column: the UTC date (yyyy-MM-dd) of `p_event_time`. */
export const ARCHIVE_PARTITION_COLUMN = 'dt';

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment?: string;
}

export interface ArchiveTable {
  readonly logType: string;
  /** Athena and local table name, e.g. `okta_system_log`. */
  readonly tableName: string;
  readonly columns: readonly GlueColumn[];
  readonly partitionKeys: readonly GlueColumn[];
  /** DuckDB `read_json` columns: JSON key (as spelt in the YAML) -> DuckDB type. */
  readonly localColumns: Readonly<Record<string, string>>;
}

/** Glue's limit on a column comment. */
const MAX_COMMENT_LENGTH = 255;

/** The standard fields every record carries (lambdas/core/ports.ts OutputRecord), all strings. */
const STANDARD_STRING_FIELDS: ReadonlyArray<{ name: string; comment: string }> = [
  { name: 'p_log_type', comment: 'Log type, e.g. Okta.SystemLog' },
  { name: 'p_event_time', comment: 'Event time, RFC 3339 UTC (the partition dt is its date)' },
  { name: 'p_parse_time', comment: 'When the puller processed the event, RFC 3339 UTC' },
  { name: 'p_row_id', comment: 'Unique id of the record' },
  { name: 'p_source_id', comment: 'Source (Okta org) id' },
  { name: 'p_source_label', comment: 'Source label' },
];

/** `Okta.SystemLog` -> `okta_system_log`. */
export function tableNameOf(logType: string): string {
  return logType
    .split('.')
    .map((part) => part.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase())
    .join('_');
}

function comment(description: string | undefined): { comment?: string } {
  if (description === undefined) return {};
  const oneLine = description.replace(/\s+/g, ' ').trim();
  return { comment: oneLine.length <= MAX_COMMENT_LENGTH ? oneLine : `${oneLine.slice(0, MAX_COMMENT_LENGTH - 3)}...` };
}

/** Lower-cased names must stay distinct, or two JSON keys would meet in one column. */
function checkDistinct(schema: LogSchema, fields: readonly FieldSpec[], parentPath: string): void {
  const seen = new Map<string, string>();
  for (const field of fields) {
    const lower = field.name.toLowerCase();
    const earlier = seen.get(lower);
    const path = parentPath === '' ? field.name : `${parentPath}.${field.name}`;
    if (earlier !== undefined) {
      throw new SchemaCompileError(schema.file, path, `differs from ${earlier} only in case; Athena column names are case-insensitive`);
    }
    seen.set(lower, field.name);
  }
}

function hiveType(schema: LogSchema, value: ValueSpec, path: string): string {
  switch (value.type) {
    case 'string':
    case 'json':
    case 'timestamp':
      return 'string';
    case 'int':
    case 'smallint':
    case 'bigint':
    case 'boolean':
      return value.type;
    case 'float':
      return 'double';
    case 'array':
      return `array<${hiveType(schema, value.element, `${path}[]`)}>`;
    case 'object':
      checkDistinct(schema, value.fields, path);
      return `struct<${value.fields.map((field) => `${field.name.toLowerCase()}:${hiveType(schema, field.value, `${path}.${field.name}`)}`).join(',')}>`;
  }
}

const DUCKDB_SCALARS = {
  string: 'VARCHAR',
  json: 'VARCHAR',
  timestamp: 'VARCHAR',
  int: 'INTEGER',
  smallint: 'SMALLINT',
  bigint: 'BIGINT',
  boolean: 'BOOLEAN',
  float: 'DOUBLE',
} as const;

function duckdbType(value: ValueSpec): string {
  switch (value.type) {
    case 'array':
      return `${duckdbType(value.element)}[]`;
    case 'object':
      // Quoted: field names such as `type` or `interface` are keywords in some positions.
      return `STRUCT(${value.fields.map((field) => `"${field.name}" ${duckdbType(field.value)}`).join(', ')})`;
    case 'string':
    case 'boolean':
    case 'int':
    case 'smallint':
    case 'bigint':
    case 'float':
    case 'timestamp':
    case 'json':
      return DUCKDB_SCALARS[value.type];
  }
}

/** The indicator fields (`p_any_*`) a record of this schema can carry: arrays of strings. */
function indicatorFieldsOf(fields: readonly FieldSpec[]): string[] {
  const found = new Set<string>();
  const visit = (value: ValueSpec): void => {
    if (value.type === 'string') for (const kind of value.indicators) for (const field of INDICATOR_FIELDS[kind]) found.add(field);
    else if (value.type === 'object') for (const field of value.fields) visit(field.value);
    else if (value.type === 'array') visit(value.element);
  };
  for (const field of fields) visit(field.value);
  return [...found].sort();
}

export function toArchiveTable(schema: LogSchema): ArchiveTable {
  checkDistinct(schema, schema.fields, '');
  const own = schema.fields.map((field) => ({
    name: field.name,
    glue: { name: field.name.toLowerCase(), type: hiveType(schema, field.value, field.name), ...comment(field.value.description) },
    local: duckdbType(field.value),
  }));
  const standard = [
    ...STANDARD_STRING_FIELDS.map(({ name, comment: text }) => ({ name, glue: { name, type: 'string', comment: text }, local: 'VARCHAR' })),
    ...indicatorFieldsOf(schema.fields).map((name) => ({
      name,
      glue: { name, type: 'array<string>', comment: 'Indicator values found in the event (sorted, distinct)' },
      local: 'VARCHAR[]',
    })),
  ];
  const all = [...own, ...standard];
  return {
    logType: schema.logType,
    tableName: tableNameOf(schema.logType),
    columns: all.map((column) => column.glue),
    partitionKeys: [{ name: ARCHIVE_PARTITION_COLUMN, type: 'string', comment: 'UTC date of p_event_time, yyyy-MM-dd' }],
    localColumns: Object.fromEntries(all.map((column) => [column.name, column.local])),
  };
}
