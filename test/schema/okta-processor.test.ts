import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UnknownLogTypeError, eventProcessorFor } from '../../lambdas/core/schema';
import type { OutputRecord } from '../../lambdas/core/ports';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const PARSE_TIME = Date.parse('2026-01-01T00:00:00.000Z');
const CONTEXT = { sourceId: 'acme', sourceLabel: 'Acme Okta', parseTime: PARSE_TIME };

function lines(file: string): string[] {
  return readFileSync(path.join(FIXTURES, file), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '');
}

const processor = eventProcessorFor('Okta.SystemLog');

/** Processes a fresh copy (the processor owns a valid event) and returns the record or fails. */
function recordOf(event: unknown): OutputRecord {
  const result = processor.process(structuredClone(event), CONTEXT);
  if (!result.ok) throw new Error(`expected a valid event, got: ${result.errors.join('; ')}`);
  return result.record;
}

function errorsOf(event: unknown): string[] {
  const result = processor.process(event, CONTEXT);
  if (result.ok) throw new Error('expected an invalid event');
  return result.errors;
}

function withoutStandardFields(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(record).filter(([key]) => !key.startsWith('p_')));
}

/** A minimal real-shaped event; tests change one thing at a time. */
function baseEvent(): Record<string, unknown> {
  return {
    uuid: 'f790999f-fe87-467a-9880-6982a583986c',
    published: '2024-05-01T12:34:56.789Z',
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    actor: { id: '00u1', type: 'User', alternateId: 'jane@example.com', displayName: 'Jane' },
    client: { ipAddress: '203.0.113.9', zone: 'null' },
  };
}

describe('the corpus', () => {
  const events = lines('okta-events.ndjson').map((line) => JSON.parse(line) as Record<string, unknown>);

  it('has every real-shaped event valid, with nothing lost (the fields as sent, p_* added)', () => {
    expect(events).toHaveLength(55);
    for (const event of events) {
      const record = recordOf(event);
      // The three OpenAPI examples with numeric values are checked field by field below.
      if (event.version !== 0) expect(withoutStandardFields(record)).toEqual(event);
      expect(record.p_log_type).toBe('Okta.SystemLog');
      expect(record.p_source_id).toBe('acme');
    }
  });

  it('coerces the OpenAPI examples losslessly: version 0 → "0", postalCode 10013 → "10013", the rest as sent', () => {
    const numeric = events.filter((event) => event.version === 0);
    expect(numeric).toHaveLength(3);
    for (const event of numeric) {
      const record = recordOf(event);
      expect(record.version).toBe('0');
      const expected = structuredClone(event);
      expected.version = '0';
      const geo = (expected.client as { geographicalContext?: { postalCode?: unknown } }).geographicalContext;
      if (geo && typeof geo.postalCode === 'number') geo.postalCode = String(geo.postalCode);
      for (const hop of (expected.request as { ipChain?: Array<{ geographicalContext?: { postalCode?: unknown } }> } | undefined)
        ?.ipChain ?? []) {
        if (hop.geographicalContext && typeof hop.geographicalContext.postalCode === 'number') {
          hop.geographicalContext.postalCode = String(hop.geographicalContext.postalCode);
        }
      }
      expect(withoutStandardFields(record)).toEqual(expected);
    }
  });

  it('gives every nonconforming fixture a verdict with reasons naming the field, never a crash', () => {
    const fixtures = lines('okta-events-nonconforming.ndjson').map((line) => JSON.parse(line) as { why: string; event: unknown });
    expect(fixtures).toHaveLength(63);
    for (const { why, event } of fixtures) {
      const result = processor.process(event, CONTEXT);
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      for (const missing of why.matchAll(/missing:(\w+)/g)) expect(result.errors).toContain(`${missing[1]}: is required`);
      if (/published:(invalid-date|unparseable|impossible)/.test(why)) {
        expect(result.errors.some((error) => error.startsWith('published: must be an RFC 3339 timestamp'))).toBe(true);
      }
    }
  });
});

describe('validation', () => {
  it('explains each problem with the field path, the declared type and what arrived', () => {
    const event = baseEvent();
    event.uuid = null;
    event.published = '2017-09-31T22:23:07.777Z';
    event.actor = { id: '00u1' };
    event.target = [
      { id: 't1', type: 'User' },
      { id: 't2', type: ['User'] },
    ];
    event.securityContext = { asNumber: 1.5, isProxy: 'yes' };
    event.authenticationContext = { authenticationStep: '1.0' };

    expect(errorsOf(event)).toEqual(
      expect.arrayContaining([
        'uuid: is required and must not be null',
        'published: must be an RFC 3339 timestamp such as 2024-05-01T12:34:56.789Z, got string "2017-09-31T22:23:07.777Z"',
        'actor.type: is required',
        'target[1].type: must be a string, got an array',
        'securityContext.asNumber: must be an integer from -2^63 to 2^63-1 (bigint), got number 1.5',
        'securityContext.isProxy: must be true or false, got string "yes"',
        'authenticationContext.authenticationStep: must be an integer from -2147483648 to 2147483647 (int), got string "1.0"',
      ]),
    );
  });

  it('rejects what is not an object', () => {
    expect(errorsOf('just text')).toEqual(['event: must be a JSON object, got string "just text"']);
    expect(errorsOf([baseEvent()])).toEqual(['event: must be a JSON object, got an array']);
    expect(errorsOf(null)).toEqual(['event: is required and must not be null']);
  });

  it('accepts null for every optional field and keeps unknown fields', () => {
    const event = {
      ...baseEvent(),
      legacyEventType: null,
      displayMessage: null,
      actor: { id: 'a', type: 'User', alternateId: null, displayName: null, details: null, detailEntry: null },
      client: null,
      request: { ipChain: [{ ip: '10.0.0.1', geographicalContext: null, version: 'V4', source: null, ipDetails: { asn: 1 } }] },
      outcome: null,
      target: null,
      transaction: { id: 'x', type: 'WEB', detail: {} },
      debugContext: { debugData: '' },
      authenticationContext: { rootSessionId: 'r', issuer: null, authenticationStep: null },
      securityContext: { asNumber: null, isProxy: null, risk: { level: 'LOW' } },
      device: { id: 'd1' },
      someNewOktaField: [1, 2, 3],
    };

    const record = recordOf(event);

    expect(withoutStandardFields(record)).toEqual(event);
  });

  it('coerces only when nothing is lost', () => {
    const event = baseEvent();
    event.version = 0;
    event.securityContext = { asNumber: '4134', isProxy: 'false' };
    event.authenticationContext = { authenticationStep: '0' };
    event.actor = { id: 42, type: 'User' };

    const record = recordOf(event);

    expect(record.version).toBe('0');
    expect(record.actor).toEqual({ id: '42', type: 'User' });
    expect(record.securityContext).toEqual({ asNumber: 4134, isProxy: false });
    expect(record.authenticationContext).toEqual({ authenticationStep: 0 });
    for (const lossy of ['0042', '1e3', '4134.0', ' 4134', '']) {
      const bad = baseEvent();
      bad.securityContext = { asNumber: lossy };
      expect(errorsOf(bad)).toEqual([
        `securityContext.asNumber: must be an integer from -2^63 to 2^63-1 (bigint), got string ${JSON.stringify(lossy)}`,
      ]);
    }
  });

  it('never modifies an invalid event, even one it coerced while checking', () => {
    const event: Record<string, unknown> = { ...baseEvent(), version: 0 };
    delete event.uuid;
    const before = structuredClone(event);

    errorsOf(event);

    expect(event).toEqual(before);
  });

  it('puts back every value it coerced in place, nested and in arrays, when the event stays invalid: the same object, the same serialisation', () => {
    const event: Record<string, unknown> = {
      ...baseEvent(),
      version: 0,
      authenticationContext: { authenticationStep: '2' },
      target: [
        { id: 't1', type: 'User' },
        { id: 5, type: 'User' },
      ],
      securityContext: { asNumber: '7', isProxy: 'false' },
      severity: { level: 'INFO' },
    };
    const target = event.target;
    const received = JSON.stringify(event);
    const before = structuredClone(event);

    expect(errorsOf(event)).toEqual(['severity: must be a string, got an object']);

    expect(event).toEqual(before);
    expect(JSON.stringify(event)).toBe(received);
    expect(event.target).toBe(target);
  });

  it('reports a coercible field as fine when another field is the problem', () => {
    const event = baseEvent();
    event.version = 0;
    event.severity = { level: 'INFO' };

    expect(errorsOf(event)).toEqual(['severity: must be a string, got an object']);
  });
});

describe('normalisation', () => {
  it('adds the standard fields', () => {
    const record = recordOf(baseEvent());

    expect(record).toMatchObject({
      p_log_type: 'Okta.SystemLog',
      p_event_time: '2024-05-01T12:34:56.789Z',
      p_parse_time: '2026-01-01T00:00:00.000Z',
      p_source_id: 'acme',
      p_source_label: 'Acme Okta',
    });
    expect(record.p_row_id).toMatch(/^[0-9a-f]{16}[0-9a-z]+$/);
  });

  it("gives the p_* fields as JSON members, in the record's order, unless it coerced a value", () => {
    const events = [
      ...lines('okta-events.ndjson').map((line) => JSON.parse(line) as Record<string, unknown>),
      { ...baseEvent(), published: '2024-05-01T14:34:56.123+02:00' },
    ];
    const context = { ...CONTEXT, sourceLabel: 'Acme "Okta" \u2028 \\ label' };
    let coerced = 0;
    for (const event of events) {
      const result = processor.process(structuredClone(event), context);
      if (!result.ok) throw new Error(result.errors.join('; '));
      if (result.standardFieldsJson === undefined) {
        coerced += 1;
        continue;
      }
      const standard = Object.entries(result.record).filter(([key]) => key.startsWith('p_'));
      expect(Object.entries(JSON.parse(`{${result.standardFieldsJson}}`) as Record<string, unknown>)).toEqual(standard);
    }
    // The three OpenAPI examples (version 0, postalCode 10013).
    expect(coerced).toBe(3);
  });

  it('gives every record its own p_row_id', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => recordOf(baseEvent()).p_row_id));

    expect(ids.size).toBe(1000);
  });

  it.each([
    ['2024-05-01T12:34:56Z', '2024-05-01T12:34:56Z'],
    ['2024-05-01T12:34:56.7Z', '2024-05-01T12:34:56.7Z'],
    ['2024-05-01T12:34:56.49Z', '2024-05-01T12:34:56.49Z'],
    ['2024-05-01T12:34:56.123456789Z', '2024-05-01T12:34:56.123456789Z'],
    ['2024-05-01T14:34:56.123+02:00', '2024-05-01T12:34:56.123Z'],
    ['2024-05-01T00:15:00.000001-05:45', '2024-05-01T06:00:00.000001Z'],
    ['2024-03-01T01:00:00+02:00', '2024-02-29T23:00:00Z'],
    ['2024-12-31T23:30:00-01:00', '2025-01-01T00:30:00Z'],
    ['2024-05-01t12:34:56z', '2024-05-01T12:34:56Z'],
  ])('p_event_time of published %s is %s (UTC, original precision)', (published, expected) => {
    expect(recordOf({ ...baseEvent(), published }).p_event_time).toBe(expected);
  });

  it('extracts real indicators only: unique, sorted, absent when empty', () => {
    const event = {
      ...baseEvent(),
      actor: { id: 'a', type: 'User', alternateId: 'unknown' },
      client: { ipAddress: '000.000.00.000' },
      request: {
        ipChain: [
          { ip: '2001:db8::1' },
          { ip: '198.51.100.7' },
          { ip: '198.51.100.7' },
          { ip: 'not an ip' },
          { ip: null },
          { geographicalContext: null },
        ],
      },
      securityContext: { domain: '.' },
    };

    const record = recordOf(event);

    expect(record.p_any_ip_addresses).toEqual(['198.51.100.7', '2001:db8::1']);
    expect(record).not.toHaveProperty('p_any_emails');
    expect(record).not.toHaveProperty('p_any_domain_names');
  });

  it('extracts e-mail addresses and domain names', () => {
    const record = recordOf({ ...baseEvent(), securityContext: { domain: 'comcast.net' } });

    expect(record.p_any_emails).toEqual(['jane@example.com']);
    expect(record.p_any_domain_names).toEqual(['comcast.net']);
    expect(record.p_any_ip_addresses).toEqual(['203.0.113.9']);
  });

  it('refuses an unknown log type by name', () => {
    expect(() => eventProcessorFor('Okta.Nope')).toThrow(UnknownLogTypeError);
    expect(() => eventProcessorFor('Okta.Nope')).toThrow('unknown log type "Okta.Nope"; known: Okta.SystemLog');
    expect(eventProcessorFor('Okta.SystemLog')).toBe(processor);
  });
});
