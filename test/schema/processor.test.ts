/**
 * The event processor (lambdas/core/schema/processor.ts): what it does with fields an event should
 * not set and with timestamps sent as strings. Each case failed before its fix.
 */
import { eventProcessorFor } from '../../lambdas/core/schema';
import { createEventProcessor } from '../../lambdas/core/schema/processor';
import { compileYaml } from './support/compile-in-memory';

const CONTEXT = { sourceId: 'acme', sourceLabel: 'Acme Okta', parseTime: Date.parse('2026-01-01T00:00:00.000Z') };

function event(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    uuid: 'f790999f-fe87-467a-9880-6982a583986c',
    published: '2024-05-01T12:34:56.789Z',
    eventType: 'user.session.start',
    version: '0',
    severity: 'INFO',
    actor: { id: '00u1', type: 'User', alternateId: 'unknown', displayName: 'Jane' },
    client: { ipAddress: '000.000.00.000' },
    ...extra,
  };
}

describe("indicator fields are the normaliser's alone", () => {
  it("drops the log type's p_any_* values an event brings with it when its own fields hold none", () => {
    const result = eventProcessorFor('Okta.SystemLog').process(
      event({ p_any_emails: ['forged@example.com'], p_any_ip_addresses: ['junk'], p_any_domain_names: ['example.com'] }),
      CONTEXT,
    );
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.record).not.toHaveProperty('p_any_emails');
    expect(result.record).not.toHaveProperty('p_any_ip_addresses');
    expect(result.record).not.toHaveProperty('p_any_domain_names');
  });

  it('replaces p_any_* values an event brings with the ones its fields hold', () => {
    const result = eventProcessorFor('Okta.SystemLog').process(
      event({ client: { ipAddress: '198.51.100.7' }, p_any_ip_addresses: ['junk'] }),
      CONTEXT,
    );
    if (!result.ok) throw new Error(result.errors.join('; '));
    expect(result.record.p_any_ip_addresses).toEqual(['198.51.100.7']);
  });
});

describe('a string in a timestamp field whose numeric formats are all integral', () => {
  const { logType, generated } = compileYaml(`schema: Review.Times
fields:
  - name: at
    type: timestamp
    timeFormats: [rfc3339, unix_ms]
    isEventTime: true
  - name: seenAt
    type: timestamp
    timeFormats: [rfc3339, unix_ms]
`);
  const processor = createEventProcessor(logType, generated);

  it('is refused when it is not a whole number, as the JSON number would be', () => {
    const string = processor.process({ at: '2024-01-01T00:00:00Z', seenAt: '1.5' }, CONTEXT);
    const number = processor.process({ at: '2024-01-01T00:00:00Z', seenAt: 1.5 }, CONTEXT);
    expect(number.ok).toBe(false);
    expect(string.ok).toBe(false);
    if (!string.ok) expect(string.errors).toEqual([expect.stringMatching(/^seenAt: must be /)]);
  });

  it('is accepted when it is a whole number of milliseconds', () => {
    expect(processor.process({ at: '2024-01-01T00:00:00Z', seenAt: '1700000000123' }, CONTEXT).ok).toBe(true);
  });
});
