import { parseIsoInstant } from '../../lambdas/core/iso-instant';

/** The one reading of `since`/`until`: the `pull --since` flag and the emulated System Log API. */
describe('parseIsoInstant', () => {
  it.each([
    ['2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T00:00:00.123456789Z', '2026-01-01T00:00:00.123Z'],
    ['2026-01-01T01:00+01:00', '2026-01-01T00:00:00.000Z'],
    ['2026-01-01T01:00:00+0100', '2026-01-01T00:00:00.000Z'],
  ])('reads %s with its offset', (text, utc) => {
    expect(parseIsoInstant(text)).toBe(Date.parse(utc));
  });

  it.each(['2026-01-01T00:00:00', '2026-01-01 00:00:00Z', '2026-01-01T00Z', 'yesterday', '', '1767225600000'])('refuses %j', (text) => {
    expect(parseIsoInstant(text)).toBeUndefined();
  });

  it('reads a bare date as UTC midnight only when asked to', () => {
    expect(parseIsoInstant('2026-01-01')).toBeUndefined();
    expect(parseIsoInstant('2026-01-01', { allowDate: true })).toBe(Date.parse('2026-01-01T00:00:00Z'));
  });
});
