/**
 * Review findings on validation and normalisation, each shown by a case that failed before its fix.
 */
import { eventProcessorFor } from '../../lambdas/core/schema';
import { createEventProcessor } from '../../lambdas/core/schema/processor';
import { timestampToUtc } from '../../lambdas/core/schema/time-formats';
import { compileYaml } from '../schema/support/compile-in-memory';

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

describe('indicator fields are the normaliser\'s alone', () => {
  it('drops the log type\'s p_any_* values an event brings with it when its own fields hold none', () => {
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

describe('numeric timestamps held in strings keep every digit', () => {
  it('a nanosecond time sent as a string gives p_event_time its own nine fraction digits', () => {
    // 1700000000123456789 is beyond 2^53: read as a double it becomes ...123456768.
    expect(timestampToUtc('1700000000123456789', ['rfc3339', 'unix_ns'])).toBe('2023-11-14T22:13:20.123456789Z');
    expect(timestampToUtc('-1', ['rfc3339', 'unix_ns'])).toBe('1969-12-31T23:59:59.999999999Z');
  });

  it('a microsecond time sent as a string beyond 2^53 keeps its six digits', () => {
    expect(timestampToUtc('9007199254740993', ['rfc3339', 'unix_us'])).toBe('2255-06-05T23:47:34.740993Z');
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
