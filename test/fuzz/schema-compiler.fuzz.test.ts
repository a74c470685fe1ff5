/**
 * Fuzzing the schema compiler with generated YAML: log schemas that are almost right (the mistakes
 * people make by hand: unknown keys, wrong types, odd field names, misplaced options) and YAML that
 * is not a schema at all. Compiling either succeeds or fails with `SchemaCompileError` naming the
 * file; whatever compiles yields a processor that gives every event, however odd, a verdict
 * without throwing.
 */
import fc from 'fast-check';
import { parse, stringify } from 'yaml';
import { createEventProcessor } from '../../lambdas/core/schema';
import { FIELD_TYPES, TIME_FORMATS } from '../../lambdas/core/schema/vocabulary';
import { SchemaCompileError } from '../../schemas/compiler/panther-schema';
import { compileYaml } from '../schema/support/compile-in-memory';

/** Compiling runs ajv twice per schema (~10 ms): 150 schemas keep this file at a few seconds. */
const SCHEMA_RUNS = 150;
const CONTEXT = { sourceId: 'fuzz', sourceLabel: 'Fuzz', parseTime: Date.parse('2026-01-01T00:00:00Z') };

/** Names a person might write, and names that break naive path handling (JSON pointers, prototypes). */
const fieldName = fc.oneof(
  { weight: 40, arbitrary: fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,6}$/) },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '__proto__',
      'constructor',
      'toString',
      'a/b',
      'a~1b',
      '~0',
      'a.b',
      'with space',
      'p_any',
      'p_log_type',
      '',
      '0',
      'é',
      '$ref',
    ),
  },
);
const typeName = fc.oneof(
  { weight: 80, arbitrary: fc.constantFrom(...FIELD_TYPES) },
  { weight: 1, arbitrary: fc.constantFrom('String', 'integer', 'map', '', 'null') },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
);
/** Options that belong to some types and not others, and a few that belong nowhere. */
const extraKey = fc.oneof(
  fc.constantFrom<[string, unknown]>(
    ['timeFormat', 'rfc3339'],
    ['timeFormat', 'unix_ms'],
    ['timeFormat', 'strftime'],
    ['timeFormats', ['rfc3339', 'unix']],
    ['timeFormats', 'rfc3339'],
    ['timeFormats', []],
    ['indicators', ['ip', 'email']],
    ['indicators', ['nonsense']],
    ['indicators', 'ip'],
    ['isEventTime', true],
    ['isEventTime', 'yes'],
    ['required', 'true'],
    ['description', 42],
    ['validate', { allow: ['a'] }],
    ['element', { type: 'string' }],
    ['element', 'string'],
    ['fields', []],
    ['fields', 'x'],
  ),
  fc.tuple(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 })),
);

/** YAML that once crashed the compiler with a stack overflow or a bare ReferenceError, and other slips. */
const HAND_WRITTEN_MISTAKES = [
  'schema: Fuzz.Log\nfields:\n  - name: a\n    type: string\n  - name: a\n    type: int\n',
  'schema: Fuzz.Log\nfields: [{name: a, type: string}]\nschema: Other.Log\n',
  '&a [*a]',
  'schema: Fuzz.Log\nfields: *undefinedAnchor\n',
  'schema: Fuzz.Log\nfields: &f\n  - name: a\n    type: object\n    fields: *f\n',
  'schema: Fuzz.Log\nfields:\n  - name: a\n    type: array\n    element: &e\n      type: array\n      element: *e\n',
  'schema: Fuzz.Log\nfields:\n  - &f\n    name: a\n    type: object\n    fields:\n      - *f\n',
  '{{{{',
  '- - - -',
];

type RawField = Record<string, unknown>;

/** Fields nested at most `depth` objects deep (YAML schemas by hand rarely go past three). */
function fieldsArb(depth: number): fc.Arbitrary<RawField[]> {
  const field = fc
    .record({
      name: fieldName,
      type: depth > 0 ? typeName : typeName.filter((type) => type !== 'object'),
      required: fc.boolean(),
      isEventTime: fc.boolean().chain((first) => (first ? fc.boolean() : fc.constant(false))),
      timeFormat: fc.constantFrom(...TIME_FORMATS),
      nested: depth > 0 ? fc.constant(null).chain(() => fieldsArb(depth - 1)) : fc.constant([]),
      element: fc.record({ type: fc.constantFrom(...FIELD_TYPES), timeFormat: fc.constantFrom(...TIME_FORMATS) }),
      extras: fc.oneof({ weight: 30, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: extraKey }),
    })
    .map((f): RawField => {
      const result: RawField = { name: f.name, type: f.type };
      if (f.required) result.required = true;
      if (f.type === 'timestamp') {
        result.timeFormat = f.timeFormat;
        if (f.isEventTime) result.isEventTime = true;
      }
      if (f.type === 'object') result.fields = f.nested;
      if (f.type === 'array')
        result.element = f.element.type === 'timestamp' ? f.element : { type: f.element.type === 'object' ? 'json' : f.element.type };
      if (f.extras !== undefined) result[f.extras[0]] = f.extras[1];
      return result;
    });
  return fc.array(field, { minLength: depth === 3 ? 1 : 0, maxLength: depth === 3 ? 5 : 3 });
}

const yamlDocument = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .record({
        schema: fc.constantFrom('Fuzz.Log', 'Fuzz.Log', 'Fuzz.Log', 'Okta.SystemLog', 'fuzz'),
        version: fc.constantFrom(0, 1, 1, 1, 1, -1),
        fields: fieldsArb(3),
      })
      .map((doc) => stringify(doc)),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => stringify(value)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 120 }) },
  { weight: 1, arbitrary: fc.constantFrom(...HAND_WRITTEN_MISTAKES) },
);

/** An event that uses the schema's own field names, so the validator meets its paths with any value. */
function eventFor(fields: readonly RawField[]): fc.Arbitrary<unknown> {
  const entries = fields
    .filter((field) => typeof field.name === 'string')
    .map((field) => {
      const nested = Array.isArray(field.fields) ? eventFor(field.fields as RawField[]) : fc.jsonValue({ maxDepth: 2 });
      const value = fc.oneof(
        fc.jsonValue({ maxDepth: 2 }),
        nested,
        fc.array(nested, { maxLength: 2 }),
        fc.constant(null),
        fc.integer().map(String),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      );
      return fc.option(
        value.map((v) => [field.name as string, v] as const),
        { nil: undefined },
      );
    });
  return fc.tuple(...entries).map((pairs) => {
    const event: Record<string, unknown> = {};
    for (const pair of pairs)
      if (pair !== undefined)
        Object.defineProperty(event, pair[0], { value: pair[1], enumerable: true, writable: true, configurable: true });
    return event;
  });
}

describe('the schema compiler on generated YAML', () => {
  it.each(HAND_WRITTEN_MISTAKES)('refuses %j with a SchemaCompileError', (yaml) => {
    expect(() => compileYaml(yaml, 'schemas/fuzz.yml')).toThrow(SchemaCompileError);
  });

  it('still accepts a mapping reused through an alias where it does not contain itself', () => {
    const yaml =
      'schema: Fuzz.Log\nfields:\n  - name: a\n    type: object\n    fields: &shared\n      - name: x\n        type: string\n  - name: b\n    type: object\n    fields: *shared\n';
    expect(compileYaml(yaml, 'schemas/fuzz.yml').logType).toBe('Fuzz.Log');
  });

  it('compiles or throws SchemaCompileError, and whatever compiles gives any event a verdict', () => {
    let compiled = 0;
    fc.assert(
      fc.property(yamlDocument, fc.integer({ min: 0, max: 2 ** 31 - 1 }), (yaml, eventSeed) => {
        let result;
        try {
          result = compileYaml(yaml, 'schemas/fuzz.yml');
        } catch (error) {
          if (!(error instanceof SchemaCompileError)) throw error;
          expect(error.message.startsWith('schemas/fuzz.yml: ')).toBe(true);
          return;
        }
        compiled += 1;
        const processor = createEventProcessor(result.logType, result.generated);
        const parsed = (parse(yaml) as { fields: RawField[] }).fields;
        const events = fc.sample(fc.oneof(eventFor(parsed), fc.jsonValue({ maxDepth: 3 })), { numRuns: 20, seed: eventSeed });
        for (const event of events) {
          const verdict = processor.process(structuredClone(event), CONTEXT);
          if (verdict.ok) {
            expect(verdict.record.p_log_type).toBe(result.logType);
            expect(typeof verdict.record.p_event_time).toBe('string');
          } else {
            expect(verdict.errors.length).toBeGreaterThan(0);
            for (const reason of verdict.errors) expect(typeof reason).toBe('string');
          }
        }
      }),
      { numRuns: SCHEMA_RUNS },
    );
    // Many generated schemas must compile, or the processor half of this test proves nothing.
    expect(compiled).toBeGreaterThan(SCHEMA_RUNS / 5);
  });
});
