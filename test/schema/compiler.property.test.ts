/**
 * Property tests of the compiler over generated Panther schemas (not only Okta's): a record built
 * from a schema validates and keeps every field; breaking one field's type is rejected with that
 * field's path; a lossless mismatch is coerced.
 */
import fc from 'fast-check';
import { stringify } from 'yaml';
import { createEventProcessor } from '../../lambdas/core/schema';
import type { EventProcessor } from '../../lambdas/core/ports';
import { compileYaml } from './support/compile-in-memory';

/** A field as it appears in YAML (after `name`), built by the arbitraries below. */
interface YamlValue {
  type: string;
  timeFormat?: string;
  timeFormats?: string[];
  fields?: YamlField[];
  element?: YamlValue;
}
interface YamlField extends YamlValue {
  name: string;
  required?: boolean;
}

const CONTEXT = { sourceId: 'prop', sourceLabel: 'Property', parseTime: Date.parse('2026-01-01T00:00:00Z') };
const SCALARS = ['string', 'int', 'smallint', 'bigint', 'float', 'boolean', 'json'];
const TIME_FORMATS = ['rfc3339', 'unix', 'unix_ms', 'unix_us', 'unix_ns'];
/** Schema field names; unknown fields the records carry start with `extra` and so never clash. */
const fieldName = fc.stringMatching(/^[a-z][A-Za-z0-9_]{0,7}$/).filter((name) => !name.startsWith('extra') && !name.startsWith('p_'));

const valueArb: fc.Arbitrary<YamlValue> = fc.letrec<{ value: YamlValue; fields: YamlField[] }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...SCALARS).map((type) => ({ type })),
    fc.constantFrom(...TIME_FORMATS).map((timeFormat) => ({ type: 'timestamp', timeFormat })),
    fc.subarray(TIME_FORMATS, { minLength: 2 }).map((timeFormats) => ({ type: 'timestamp', timeFormats })),
    tie('fields').map((fields) => ({ type: 'object', fields })),
    tie('value').map((element) => ({ type: 'array', element })),
  ),
  fields: fc
    .uniqueArray(fc.record({ name: fieldName, required: fc.boolean(), value: tie('value') }), {
      minLength: 1,
      maxLength: 4,
      selector: (field) => field.name,
    })
    .map((fields) => fields.map(({ name, required, value }) => ({ name, ...(required ? { required } : {}), ...value }))),
})).value;

const fieldsArb: fc.Arbitrary<YamlField[]> = fc
  .uniqueArray(fc.record({ name: fieldName, required: fc.boolean(), value: valueArb }), {
    minLength: 1,
    maxLength: 5,
    selector: (field) => field.name,
  })
  .map((fields) => fields.map(({ name, required, value }) => ({ name, ...(required ? { required } : {}), ...value })));

/** Years 1..9998 so that no offset moves an instant out of RFC 3339's four-digit years. */
const rfc3339Arb = fc
  .record({
    year: fc.integer({ min: 1, max: 9998 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    hour: fc.integer({ min: 0, max: 23 }),
    minute: fc.integer({ min: 0, max: 59 }),
    second: fc.integer({ min: 0, max: 59 }),
    fraction: fc.stringMatching(/^[0-9]{0,9}$/),
    zone: fc.oneof(
      fc.constant('Z'),
      fc
        .tuple(fc.constantFrom('+', '-'), fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
        .map(([sign, h, m]) => `${sign}${pad(h, 2)}:${pad(m, 2)}`),
    ),
  })
  .map(
    (t) =>
      `${pad(t.year, 4)}-${pad(t.month, 2)}-${pad(t.day, 2)}T${pad(t.hour, 2)}:${pad(t.minute, 2)}:${pad(t.second, 2)}${t.fraction === '' ? '' : `.${t.fraction}`}${t.zone}`,
  );

function pad(value: number, width: number): string {
  return String(value).padStart(width, '0');
}

/** Numeric Unix times inside years 0001-9998 in every unit. */
const UNIX_RANGE: Record<string, { min: number; max: number }> = {
  unix: { min: -6e10, max: 2.5e11 },
  unix_ms: { min: -6e13, max: 2.5e14 },
  unix_us: { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
  unix_ns: { min: -Number.MAX_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER },
};

function timestampArb(formats: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(
    ...formats.map((format): fc.Arbitrary<unknown> => {
      if (format === 'rfc3339') return rfc3339Arb;
      const range = UNIX_RANGE[format] as { min: number; max: number };
      return format === 'unix'
        ? fc.double({ ...range, noNaN: true })
        : fc.integer({ min: Math.ceil(range.min), max: Math.floor(range.max) }).map(Number);
    }),
  );
}

/** A valid value of a declared type. */
function valueOf(spec: YamlValue): fc.Arbitrary<unknown> {
  switch (spec.type) {
    case 'string':
      return fc.string();
    case 'int':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'smallint':
      return fc.integer({ min: -32768, max: 32767 });
    case 'bigint':
      return fc.maxSafeInteger();
    case 'float':
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'json':
      return fc.jsonValue();
    case 'timestamp':
      return timestampArb(spec.timeFormats ?? [spec.timeFormat ?? 'rfc3339']);
    case 'object':
      return objectOf(spec.fields ?? []);
    case 'array':
      return fc.array(valueOf(spec.element ?? { type: 'json' }), { maxLength: 3 });
    default:
      throw new Error(`no generator for ${spec.type}`);
  }
}

/** An object for `fields`: required ones present, optional ones present, null or absent, plus unknown fields. */
function objectOf(fields: readonly YamlField[]): fc.Arbitrary<Record<string, unknown>> {
  const entries = fields.map((field) =>
    field.required === true
      ? valueOf(field)
          // A required `json` field may hold anything but null.
          .filter((value) => value !== null)
          .map((value) => [[field.name, value]] as Array<[string, unknown]>)
      : fc.oneof(
          valueOf(field).map((value) => [[field.name, value]] as Array<[string, unknown]>),
          fc.constant([[field.name, null]] as Array<[string, unknown]>),
          fc.constant([] as Array<[string, unknown]>),
        ),
  );
  const extras = fc.dictionary(fc.stringMatching(/^extra[A-Za-z]{0,4}$/), fc.jsonValue(), { maxKeys: 2 });
  return fc.tuple(fc.tuple(...entries), extras).map(([parts, extra]) => ({ ...extra, ...Object.fromEntries(parts.flat()) }));
}

function compile(fields: YamlField[]): EventProcessor {
  const { logType, generated } = compileYaml(stringify({ schema: 'Generated.Log', version: 0, fields }));
  return createEventProcessor(logType, generated);
}

/** Every place a value of a non-json declared type sits in `record`, with its display path. */
function slots(
  fields: readonly YamlField[],
  record: Record<string, unknown>,
  prefix = '',
): Array<{ path: string; spec: YamlValue; set: (value: unknown) => void }> {
  const found: Array<{ path: string; spec: YamlValue; set: (value: unknown) => void }> = [];
  for (const field of fields) {
    const value = record[field.name];
    if (value === undefined || value === null || field.type === 'json') continue;
    const path = `${prefix}${field.name}`;
    found.push({ path, spec: field, set: (next) => (record[field.name] = next) });
    found.push(...nested(field, value, path));
  }
  return found;
}

function nested(spec: YamlValue, value: unknown, path: string): Array<{ path: string; spec: YamlValue; set: (value: unknown) => void }> {
  if (spec.type === 'object' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
    return slots(spec.fields ?? [], value as Record<string, unknown>, `${path}.`);
  }
  if (spec.type === 'array' && Array.isArray(value) && spec.element !== undefined && spec.element.type !== 'json') {
    const element = spec.element;
    return value.flatMap((item, index) => [
      { path: `${path}[${index}]`, spec: element, set: (next: unknown) => (value[index] = next) },
      ...nested(element, item, `${path}[${index}]`),
    ]);
  }
  return [];
}

/** A value of the wrong JSON type that no lossless coercion can turn into `spec`'s type. */
function wrongValueFor(spec: YamlValue): unknown {
  switch (spec.type) {
    case 'object':
      return 'not an object';
    case 'array':
      return { not: 'an array' };
    case 'string':
      return { not: 'a string' };
    case 'timestamp':
      return (spec.timeFormats ?? [spec.timeFormat]).includes('rfc3339') ? true : 'not a time';
    default:
      return ['not', 'a', spec.type];
  }
}

const schemaWithRecord = fieldsArb.chain((fields) => fc.tuple(fc.constant(fields), objectOf(fields)));

describe('compiled schemas (property-based, over generated schemas)', () => {
  it('accept every record built from the schema, keeping every field as it was', () => {
    fc.assert(
      fc.property(schemaWithRecord, ([fields, record]) => {
        const processor = compile(fields);
        const original = structuredClone(record);

        const result = processor.process(record, CONTEXT);

        if (!result.ok) throw new Error(`rejected: ${result.errors.join('; ')}`);
        const kept = Object.fromEntries(Object.entries(result.record).filter(([key]) => !key.startsWith('p_')));
        expect(kept).toEqual(original);
        expect(result.record.p_log_type).toBe('Generated.Log');
      }),
      // Each run compiles a schema (two ajv compilations): enough runs to cover every type and nesting.
      { numRuns: 30 },
    );
  });

  it('reject a single field of the wrong type, naming that field', () => {
    const withSlot = schemaWithRecord
      .filter(([fields, record]) => slots(fields, record).length > 0)
      .chain(([fields, record]) => fc.tuple(fc.constant(fields), fc.constant(record), fc.nat({ max: slots(fields, record).length - 1 })));
    fc.assert(
      fc.property(withSlot, ([fields, record, index]) => {
        const processor = compile(fields);
        const slot = slots(fields, record)[index];
        if (slot === undefined) throw new Error('no slot');
        slot.set(wrongValueFor(slot.spec));

        const result = processor.process(record, CONTEXT);

        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.errors.some((error) => error.startsWith(`${slot.path}: must be `))).toBe(true);
      }),
      // Each run compiles a schema (two ajv compilations): enough runs to cover every type and nesting.
      { numRuns: 30 },
    );
  });

  it('coerce a number sent for a string field, and a numeric string for a number field', () => {
    const processor = compile([
      { name: 'label', type: 'string', required: true },
      { name: 'count', type: 'bigint' },
      { name: 'ratio', type: 'float' },
    ]);
    fc.assert(
      fc.property(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), (int, float) => {
        const result = processor.process({ label: int, count: String(int), ratio: String(float) }, CONTEXT);

        if (!result.ok) throw new Error(result.errors.join('; '));
        expect(result.record.label).toBe(String(int));
        expect(result.record.count).toBe(int);
        expect(Object.is(result.record.ratio, Number(String(float)))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });
});

describe('event time of generated schemas', () => {
  const processor = compile([
    { name: 'at', type: 'timestamp', timeFormats: ['unix_ms', 'rfc3339'], isEventTime: true } as YamlField,
    { name: 'nested', type: 'object', fields: [{ name: 'ns', type: 'timestamp', timeFormat: 'unix_ns' }] },
  ]);

  it.each([
    [1700000000123, '2023-11-14T22:13:20.123Z'],
    ['1700000000123', '2023-11-14T22:13:20.123Z'],
    ['2023-11-14T23:13:20.5+01:00', '2023-11-14T22:13:20.5Z'],
    [-1, '1969-12-31T23:59:59.999Z'],
  ])('converts %p to %s', (at, expected) => {
    const result = processor.process({ at }, CONTEXT);

    expect(result.ok && result.record.p_event_time).toBe(expected);
  });

  it('falls back to the parse time when the event has no event time', () => {
    const result = processor.process({ at: null }, CONTEXT);

    expect(result.ok && result.record.p_event_time).toBe('2026-01-01T00:00:00.000Z');
  });

  it('rejects an event time outside years 0000-9999 with the field named', () => {
    const result = processor.process({ at: 8.7e15 }, CONTEXT);

    expect(result).toEqual({ ok: false, errors: ['at: cannot be converted to a UTC timestamp between years 0000 and 9999'] });
  });
});
