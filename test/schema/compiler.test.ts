import * as path from 'node:path';
import { buildInMemory, compareWithDisk } from '../../schemas/compiler/build';
import { SchemaCompileError, parseLogSchema } from '../../schemas/compiler/panther-schema';
import { compileYaml } from './support/compile-in-memory';

/** Just the parts of a generated JSON Schema these tests read. */
interface SchemaNode {
  required: unknown;
  items: SchemaNode;
  properties: Record<string, SchemaNode>;
  'x-panther': { indicators: unknown };
}

const ROOT = path.resolve(__dirname, '..', '..');

function schemaWith(fieldsYaml: string): string {
  return `schema: Test.Log\nversion: 0\nfields:\n${fieldsYaml}`;
}

function compileError(yaml: string): SchemaCompileError {
  try {
    parseLogSchema('schemas/test/bad.yml', yaml);
  } catch (error) {
    if (error instanceof SchemaCompileError) return error;
    throw error;
  }
  throw new Error('expected a SchemaCompileError');
}

describe('generated files', () => {
  it('are up to date with the YAML schemas (run `npm run schemas` when this fails)', async () => {
    const files = await buildInMemory(ROOT);

    const difference = await compareWithDisk(ROOT, files);

    expect(difference).toEqual({ changed: [], extra: [] });
    expect([...files.keys()]).toEqual(
      expect.arrayContaining([
        'schemas/generated/Okta.SystemLog.schema.json',
        'schemas/generated/Okta.SystemLog.validate-first.js',
        'schemas/generated/Okta.SystemLog.validate-all.js',
        'schemas/generated/index.ts',
      ]),
    );
  });

  it('notices a stale file', async () => {
    const files = await buildInMemory(ROOT);
    const changed = new Map(files);
    changed.set('schemas/generated/Okta.SystemLog.schema.json', '{}\n');
    changed.delete('schemas/generated/index.ts');

    const difference = await compareWithDisk(ROOT, changed);

    expect(difference).toEqual({ changed: ['schemas/generated/Okta.SystemLog.schema.json'], extra: ['schemas/generated/index.ts'] });
  });

  it('keeps the Okta YAML field for field: required fields, indicators and the event time', async () => {
    const files = await buildInMemory(ROOT);
    const schema = JSON.parse(files.get('schemas/generated/Okta.SystemLog.schema.json') ?? '{}') as SchemaNode;

    expect(schema.required).toEqual(['uuid', 'published', 'eventType', 'version', 'severity']);
    expect(schema.properties.published).toMatchObject({ type: 'string', format: 'rfc3339', 'x-panther': { isEventTime: true } });
    expect(schema.properties.actor.required).toEqual(['id', 'type']);
    expect(schema.properties.target.items.required).toEqual(['id', 'type']);
    expect(schema.properties.client.properties.ipAddress['x-panther'].indicators).toEqual(['ip']);
    expect(schema.properties.securityContext.properties.asNumber).toMatchObject({ type: ['integer', 'null'], minimum: -(2 ** 63) });
    expect(schema.properties.authenticationContext.properties.authenticationStep).toMatchObject({
      type: ['integer', 'null'],
      exclusiveMaximum: 2 ** 31,
    });
  });
});

describe('compile errors name the file and the field path', () => {
  it.each([
    [
      'an unknown type',
      '  - name: a\n    type: object\n    fields:\n      - name: b\n        type: strng\n',
      'schemas/test/bad.yml: field a.b: unknown type "strng"',
    ],
    ['an unknown key', '  - name: a\n    type: string\n    requird: true\n', 'schemas/test/bad.yml: field a: unknown key "requird"'],
    [
      'an unknown key in an array element',
      '  - name: a\n    type: array\n    element:\n      type: object\n      fields:\n        - name: b\n          type: int\n          validate: {}\n',
      'schemas/test/bad.yml: field a[].b: unknown key "validate"',
    ],
    ['an unknown time format', '  - name: t\n    type: timestamp\n    timeFormat: iso8601\n', 'field t: unknown time format "iso8601"'],
    ['a timestamp without a format', '  - name: t\n    type: timestamp\n', 'field t: a timestamp needs "timeFormat"'],
    [
      'both timeFormat and timeFormats',
      '  - name: t\n    type: timestamp\n    timeFormat: unix\n    timeFormats: [unix_ms]\n',
      'field t: use either',
    ],
    [
      'isEventTime on a string',
      '  - name: s\n    type: string\n    isEventTime: true\n',
      'field s: isEventTime is only allowed on a timestamp field',
    ],
    [
      'two event times',
      '  - name: a\n    type: timestamp\n    timeFormat: unix\n    isEventTime: true\n  - name: b\n    type: timestamp\n    timeFormat: unix\n    isEventTime: true\n',
      'field b: only one field may have isEventTime',
    ],
    ['an unknown indicator', '  - name: s\n    type: string\n    indicators: [ipv4]\n', 'field s: unknown indicator "ipv4"'],
    [
      'indicators on a number',
      '  - name: n\n    type: int\n    indicators: [ip]\n',
      'field n: "indicators" is only allowed on string fields',
    ],
    ['fields on a string', '  - name: s\n    type: string\n    fields: []\n', 'field s: "fields" is only allowed on object fields'],
    ['a field declared twice', '  - name: s\n    type: string\n  - name: s\n    type: int\n', 'field s: declared twice'],
    ['a reserved p_ name', '  - name: p_event_time\n    type: string\n', 'field p_event_time: names starting with "p_" are reserved'],
    ['an array without element', '  - name: a\n    type: array\n', 'field a: an array needs an "element"'],
    ['a non-boolean required', '  - name: s\n    type: string\n    required: yes please\n', 'field s: "required" must be true or false'],
  ])('%s', (_label, fields, expected) => {
    const error = compileError(schemaWith(fields));

    expect(error.message).toContain(expected);
    expect(error.message.startsWith('schemas/test/bad.yml: ')).toBe(true);
  });

  it('rejects an unknown top-level key and a bad log type name', () => {
    expect(compileError(`${schemaWith('  - name: s\n    type: string\n')}parser: {}\n`).message).toContain(
      'unknown top-level key "parser"',
    );
    expect(compileError('schema: okta\nfields:\n  - name: s\n    type: string\n').message).toContain('"schema" must be a log type name');
  });

  it('rejects YAML that does not parse, or repeats a key', () => {
    expect(compileError('schema: [unclosed\n').message).toContain('schemas/test/bad.yml: not valid YAML');
    expect(compileError('schema: Test.Log\nschema: Test.Other\nfields: []\n').message).toContain('not valid YAML');
  });
});

describe('the whole Panther vocabulary compiles and validates', () => {
  const { generated } = compileYaml(
    schemaWith(`  - name: s
    type: string
    required: true
  - name: i
    type: int
  - name: si
    type: smallint
  - name: bi
    type: bigint
  - name: f
    type: float
  - name: b
    type: boolean
  - name: t3339
    type: timestamp
    timeFormat: rfc3339
  - name: tUnix
    type: timestamp
    timeFormat: unix
  - name: tMs
    type: timestamp
    timeFormat: unix_ms
    isEventTime: true
  - name: tUs
    type: timestamp
    timeFormat: unix_us
  - name: tNs
    type: timestamp
    timeFormat: unix_ns
  - name: tAny
    type: timestamp
    timeFormats: [rfc3339, unix_ms]
  - name: j
    type: json
    required: true
  - name: o
    type: object
    description: nested
    fields:
      - name: inner
        type: string
        required: true
  - name: a
    type: array
    element:
      type: string
      indicators: [ip]
`),
  );
  const valid = {
    s: 'x',
    i: -5,
    si: 32767,
    bi: 2 ** 53 - 1,
    f: 1.5,
    b: false,
    t3339: '2024-01-01T00:00:00+05:30',
    tUnix: 1700000000.25,
    tMs: 1700000000123,
    tUs: 1700000000123456,
    tNs: 1700000000123456,
    tAny: '2024-01-01T00:00:00Z',
    j: [1, { two: null }],
    o: { inner: 'y' },
    a: ['10.0.0.1'],
  };

  it('accepts a record of every type', () => {
    expect(generated.validateFirst(valid)).toBe(true);
    expect(generated.validateFirst({ ...valid, tAny: 1700000000123 })).toBe(true);
  });

  it.each([
    ['an int out of range', { i: 2 ** 31 }],
    ['a smallint out of range', { si: 32768 }],
    ['a non-integral int', { i: 1.5 }],
    ['a fractional unix_ms', { tMs: 1.5 }],
    ['a required json null', { j: null }],
    ['a string where a timestamp is unix', { tUnix: 'soon' }],
    ['an impossible date', { t3339: '2023-02-29T00:00:00Z' }],
    ['a missing required nested field', { o: {} }],
    ['a null array element', { a: [null] }],
  ])('rejects %s', (_label, change) => {
    expect(generated.validateFirst({ ...valid, ...change })).toBe(false);
  });
});
