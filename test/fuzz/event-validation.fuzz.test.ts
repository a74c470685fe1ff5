/**
 * Fuzzing the validator with mutated real events (`test/fixtures/okta-events.ndjson`, all valid as
 * Okta sends them). Each run takes one event, changes one thing the schema has an opinion on, and
 * checks the verdict against an oracle read from the generated JSON Schema itself:
 * - a required field removed or nulled is rejected;
 * - a value of a JSON type the field does not allow is rejected, unless a lossless coercion exists
 *   (a number or boolean for a plain string field), in which case the record carries the coerced value;
 * - a value of an allowed type on an unconstrained field, and any unknown field, is accepted and kept.
 * Whatever the mutation, `process` gives a verdict and never throws.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { eventProcessorFor } from '../../lambdas/core/schema';
import schema from '../../schemas/generated/Okta.SystemLog.schema.json';

/** Mutations per property; each checks one event in well under a millisecond. */
const RUNS = 1500;
const CONTEXT = { sourceId: 'fuzz', sourceLabel: 'Fuzz', parseTime: Date.parse('2026-01-01T00:00:00Z') };

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface SchemaNode {
  type?: string | string[];
  format?: string;
  minimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, SchemaNode>;
  required?: string[];
  items?: SchemaNode;
  'x-panther'?: { type: string };
}

const events = readFileSync(join(__dirname, '..', 'fixtures', 'okta-events.ndjson'), 'utf8')
  .split('\n')
  .filter((line) => line.trim() !== '')
  .map((line) => JSON.parse(line) as { [key: string]: Json });

/** A place in an event that the schema describes: its path, its node, and whether its parent requires it. */
interface Slot {
  readonly path: ReadonlyArray<string | number>;
  readonly node: SchemaNode;
  readonly required: boolean;
}

/** Every path present in `value` that the schema declares, depth first. */
function slotsOf(value: Json, node: SchemaNode, path: ReadonlyArray<string | number> = []): Slot[] {
  const slots: Slot[] = [];
  if (value !== null && typeof value === 'object' && !Array.isArray(value) && node.properties) {
    for (const [key, child] of Object.entries(node.properties)) {
      if (!(key in value)) continue;
      const childPath = [...path, key];
      slots.push({ path: childPath, node: child, required: node.required?.includes(key) ?? false });
      slots.push(...slotsOf(value[key] as Json, child, childPath));
    }
  }
  if (Array.isArray(value) && node.items) {
    value.forEach((item, index) => slots.push(...slotsOf(item, node.items as SchemaNode, [...path, index])));
  }
  return slots;
}

function parentOf(root: Json, path: ReadonlyArray<string | number>): { [key: string]: Json } | Json[] {
  let value: Json = root;
  for (const step of path.slice(0, -1)) value = (value as Record<string | number, Json>)[step] as Json;
  return value as { [key: string]: Json } | Json[];
}

function valueAt(root: unknown, path: ReadonlyArray<string | number>): unknown {
  let value = root;
  for (const step of path) value = (value as Record<string | number, unknown>)[step];
  return value;
}

function jsonType(value: Json): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function allowedTypes(node: SchemaNode): string[] | undefined {
  if (node.type === undefined) return undefined;
  return Array.isArray(node.type) ? node.type : [node.type];
}

function typeAllowed(node: SchemaNode, value: Json): boolean {
  const allowed = allowedTypes(node);
  if (allowed === undefined) return true;
  const type = jsonType(value);
  return allowed.includes(type) || (type === 'integer' && allowed.includes('number'));
}

/**
 * The value a lossless coercion gives (a scalar of the wrong JSON type is coerced to its declared
 * type only when converting back gives the very same text), or undefined when none exists: numbers and booleans to strings, exact numeric text
 * to numbers, "true"/"false" to booleans.
 */
function losslessCoercion(value: Json, declared: string | undefined): Json | undefined {
  if (declared === 'string' && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
  if (typeof value !== 'string') return undefined;
  const number = Number(value);
  const exact = value !== '' && String(number) === value;
  if (declared === 'float' && exact) return number;
  if ((declared === 'int' || declared === 'smallint' || declared === 'bigint') && exact && Number.isInteger(number)) return number;
  if (declared === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return undefined;
}

/** Replacement values of every JSON type, a few with meaning for coercion (numeric strings, "true"). */
const replacement: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(
    null,
    true,
    false,
    0,
    7,
    -3,
    1.5,
    2 ** 40,
    '',
    'text',
    '42',
    '042',
    'true',
    '2024-05-01T12:34:56.789Z',
    [],
    {},
    ['x'],
    { nested: 1 },
  ),
  fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<Json>,
);

const slotChoice = fc.nat({ max: events.length - 1 }).chain((eventIndex) => {
  const event = events[eventIndex] as Json;
  const slots = slotsOf(event, schema as SchemaNode);
  return fc.record({ eventIndex: fc.constant(eventIndex), slot: fc.constantFrom(...slots) });
});

function process(event: Json) {
  return eventProcessorFor('Okta.SystemLog').process(event, CONTEXT);
}

describe('the Okta.SystemLog validator on mutated real events', () => {
  it('accepts every corpus event unchanged (the oracle starts from valid events)', () => {
    for (const event of events) expect(process(structuredClone(event))).toMatchObject({ ok: true });
  });

  it('rejects a required field that is removed or nulled', () => {
    const required = events.flatMap((event, eventIndex) =>
      slotsOf(event, schema as SchemaNode)
        .filter((slot) => slot.required)
        .map((slot) => ({ eventIndex, slot })),
    );
    fc.assert(
      fc.property(fc.constantFrom(...required), fc.boolean(), ({ eventIndex, slot }, nullIt) => {
        const event = structuredClone(events[eventIndex]) as Json;
        const parent = parentOf(event, slot.path) as Record<string | number, Json>;
        const key = slot.path[slot.path.length - 1] as string;
        if (nullIt) parent[key] = null;
        else delete parent[key];
        const verdict = process(event);
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.errors.join(' ')).toContain(key);
      }),
      { numRuns: Math.min(RUNS, required.length * 2) },
    );
  });

  it('rejects a value of a type the field does not allow unless a lossless coercion exists, and keeps what it accepts', () => {
    let rejected = 0;
    let coerced = 0;
    fc.assert(
      fc.property(slotChoice, replacement, ({ eventIndex, slot }, value) => {
        const event = structuredClone(events[eventIndex]) as Json;
        const parent = parentOf(event, slot.path) as Record<string | number, Json>;
        parent[slot.path[slot.path.length - 1] as string] = value;
        const verdict = process(structuredClone(event));
        const declared = slot.node['x-panther']?.type;
        // Formats, ranges and the rules of nested fields decide beyond the JSON type: no claim there.
        const structured =
          value !== null && typeof value === 'object' && (slot.node.properties !== undefined || slot.node.items !== undefined);
        const constrained =
          structured || slot.node.format !== undefined || slot.node.minimum !== undefined || slot.node.exclusiveMaximum !== undefined;
        if (typeAllowed(slot.node, value)) {
          if (!constrained) {
            expect(verdict.ok).toBe(true);
            if (verdict.ok) expect(valueAt(verdict.record, slot.path)).toEqual(value);
          }
          return;
        }
        const lossless = losslessCoercion(value, declared);
        if (lossless !== undefined) {
          coerced += 1;
          if (!constrained) {
            expect(verdict.ok).toBe(true);
            if (verdict.ok) expect(valueAt(verdict.record, slot.path)).toBe(lossless);
          }
          return;
        }
        rejected += 1;
        expect(verdict.ok).toBe(false);
        if (!verdict.ok) expect(verdict.errors.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
    // The oracle's two interesting branches must both be reached, or this test proves little.
    expect(rejected).toBeGreaterThan(RUNS / 20);
    expect(coerced).toBeGreaterThan(RUNS / 100);
  });

  it('keeps unknown fields anywhere in an event, as sent', () => {
    const objectSlots = events.flatMap((event, eventIndex) =>
      [{ path: [] as Array<string | number>, node: schema as SchemaNode, required: false }, ...slotsOf(event, schema as SchemaNode)]
        .filter((slot) => {
          const value = valueAt(event, slot.path);
          return value !== null && typeof value === 'object' && !Array.isArray(value) && slot.node.properties !== undefined;
        })
        .map((slot) => ({ eventIndex, slot })),
    );
    fc.assert(
      fc.property(
        fc.constantFrom(...objectSlots),
        fc.stringMatching(/^[a-z][A-Za-z]{2,10}Extra$/),
        fc.jsonValue({ maxDepth: 2 }),
        ({ eventIndex, slot }, key, value) => {
          const event = structuredClone(events[eventIndex]) as Json;
          (valueAt(event, slot.path) as Record<string, Json>)[key] = value as Json;
          const verdict = process(event);
          expect(verdict.ok).toBe(true);
          if (verdict.ok) expect(valueAt(verdict.record, [...slot.path, key])).toEqual(value);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('accepts a published time only when it is a real RFC 3339 instant, and then sets p_event_time from it', () => {
    const rfc3339ish = fc
      .tuple(
        fc.integer({ min: 0, max: 10_000 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        fc.integer({ min: 0, max: 25 }),
        fc.integer({ min: 0, max: 61 }),
        fc.constantFrom('', '.1', '.789', '.123456789'),
        fc.constantFrom('Z', 'z', '+00:00', '-05:30', '+24:00', '', ' '),
        fc.constantFrom('T', ' ', 't'),
      )
      .map(
        ([y, mo, d, h, mi, frac, zone, sep]) =>
          `${String(y).padStart(4, '0')}-${String(mo).padStart(2, '0')}-${String(d).padStart(2, '0')}${sep}${String(h).padStart(2, '0')}:${String(mi).padStart(2, '0')}:${String(mi).padStart(2, '0')}${frac}${zone}`,
      );
    fc.assert(
      fc.property(fc.nat({ max: events.length - 1 }), fc.oneof(rfc3339ish, fc.string({ maxLength: 30 })), (eventIndex, published) => {
        const event = structuredClone(events[eventIndex]) as { [key: string]: Json };
        event.published = published;
        const verdict = process(event);
        if (!verdict.ok) return;
        expect(Number.isNaN(Date.parse(verdict.record.p_event_time))).toBe(false);
        expect(verdict.record.p_event_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
        expect(Date.parse(verdict.record.p_event_time)).toBe(Date.parse(published.replace(/^(.{10})[ t]/, '$1T').replace(/z$/, 'Z')));
      }),
      { numRuns: RUNS },
    );
  });
});

describe('events that try to reach object prototypes', () => {
  it('keeps __proto__ and constructor keys as plain data and pollutes no prototype', () => {
    const text = JSON.stringify(events[0]).replace(
      /^\{/,
      '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}},',
    );
    const event = JSON.parse(text) as Json;
    (event as { actor: Json }).actor = JSON.parse('{"id":"00u1","type":"User","__proto__":{"polluted":"yes"}}') as Json;
    const verdict = process(event);
    expect(verdict.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    if (verdict.ok)
      expect((JSON.parse(JSON.stringify(verdict.record)) as Record<string, unknown>)['__proto__']).toEqual({ polluted: 'yes' });
  });
});
