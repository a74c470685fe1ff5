/**
 * The archive's table is generated from the YAML schema: every YAML field is a Glue column of the
 * mapped type (checked here against the YAML itself, read with the yaml library, not with the
 * compiler), every field a real record carries is a column, and nothing else is.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parse } from 'yaml';
import { ARCHIVE_TABLE } from '../../lambdas/core/archive/layout';
import { eventProcessorFor } from '../../lambdas/core/schema';
import { parseLogSchema } from '../../schemas/compiler/panther-schema';
import { toArchiveTable } from '../../schemas/compiler/archive-table';
import { SchemaCompileError } from '../../schemas/compiler/panther-schema';

const ROOT = path.resolve(__dirname, '..', '..');
const yamlText = readFileSync(path.join(ROOT, 'schemas/okta/system-log.yml'), 'utf8');

interface YamlField {
  name?: string;
  type: string;
  fields?: YamlField[];
  element?: YamlField;
}

/** What the issue asks: YAML types to Athena/Hive types, objects as structs, json as strings. */
function expectedHiveType(field: YamlField): string {
  switch (field.type) {
    case 'object':
      return `struct<${(field.fields ?? []).map((child) => `${child.name!.toLowerCase()}:${expectedHiveType(child)}`).join(',')}>`;
    case 'array':
      return `array<${expectedHiveType(field.element!)}>`;
    case 'float':
      return 'double';
    case 'json':
    case 'timestamp':
      return 'string';
    default:
      return field.type;
  }
}

describe('the archive table generated from schemas/okta/system-log.yml', () => {
  const yaml = parse(yamlText) as { fields: YamlField[] };
  const columns = new Map(ARCHIVE_TABLE.columns.map((column) => [column.name, column.type]));

  it('is okta_system_log, partitioned by the string dt', () => {
    expect(ARCHIVE_TABLE.tableName).toBe('okta_system_log');
    expect(ARCHIVE_TABLE.partitionKeys).toEqual([expect.objectContaining({ name: 'dt', type: 'string' })]);
  });

  it.each(yaml.fields.map((field) => [field.name!, field] as const))(
    'has the YAML field %s as a column of the mapped type',
    (name, field) => {
      expect(columns.get(name.toLowerCase())).toBe(expectedHiveType(field));
    },
  );

  it('has exactly the YAML fields plus the p_* fields, all in lower case', () => {
    const own = yaml.fields.map((field) => field.name!.toLowerCase());
    const standard = [...columns.keys()].filter((name) => name.startsWith('p_'));
    expect([...columns.keys()].sort()).toEqual([...own, ...standard].sort());
    expect(standard.sort()).toEqual([
      'p_any_domain_names',
      'p_any_emails',
      'p_any_ip_addresses',
      'p_event_time',
      'p_log_type',
      'p_parse_time',
      'p_row_id',
      'p_source_id',
      'p_source_label',
    ]);
    for (const name of columns.keys()) expect(name).toBe(name.toLowerCase());
  });

  it('has a column for every field of every record the normaliser makes from the fixtures, p_* fields included', () => {
    const processor = eventProcessorFor('Okta.SystemLog');
    const keys = new Set<string>();
    for (const line of readFileSync(path.join(ROOT, 'test/fixtures/okta-events.ndjson'), 'utf8')
      .split('\n')
      .filter((text) => text.trim() !== '')) {
      const result = processor.process(JSON.parse(line), {
        sourceId: 'acme',
        sourceLabel: 'Acme',
        parseTime: Date.parse('2026-01-01T00:00:00Z'),
      });
      if (result.ok) for (const key of Object.keys(result.record)) keys.add(key.toLowerCase());
    }
    expect(keys.size).toBeGreaterThan(15);
    // Fields Okta sends that Panther's schema does not declare stay in the archive's files, not columns.
    const missing = [...keys].filter((key) => !columns.has(key)).sort();
    expect(missing).toEqual(['device', 'insertiontimestamp']);
  });

  it('gives DuckDB the YAML spelling of every key, so that read_json matches the records', () => {
    expect(Object.keys(ARCHIVE_TABLE.localColumns)).toEqual(
      expect.arrayContaining(['eventType', 'displayMessage', 'authenticationContext']),
    );
    expect(ARCHIVE_TABLE.localColumns.actor).toBe(
      'STRUCT("id" VARCHAR, "type" VARCHAR, "alternateId" VARCHAR, "displayName" VARCHAR, "details" VARCHAR, "detailEntry" VARCHAR)',
    );
    expect(ARCHIVE_TABLE.localColumns.target).toMatch(/^STRUCT\(.*\)\[\]$/);
    expect(ARCHIVE_TABLE.localColumns.p_any_ip_addresses).toBe('VARCHAR[]');
  });

  it('refuses two fields that differ only in case, which would meet in one Athena column', () => {
    const schema = parseLogSchema(
      'x.yml',
      'schema: Test.Case\nfields:\n  - name: userName\n    type: string\n  - name: username\n    type: string\n',
    );
    expect(() => toArchiveTable(schema)).toThrow(SchemaCompileError);
    expect(() => toArchiveTable(schema)).toThrow('x.yml: field username: differs from userName only in case');
  });
});
