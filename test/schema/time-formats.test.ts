/**
 * Timestamps sent as strings (lambdas/core/schema/time-formats.ts). Each case failed before its fix.
 */
import { timestampToUtc } from '../../lambdas/core/schema/time-formats';

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
