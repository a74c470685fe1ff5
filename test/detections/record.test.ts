import { eventTimeOf, field, number, parseTimestamp, text } from '../../lambdas/core/detections/record';

describe('parseTimestamp', () => {
  it.each([
    ['2024-05-01T12:34:56.789Z', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T12:34:56Z', '2024-05-01T12:34:56.000Z'],
    ['2024-05-01T14:34:56.789+02:00', '2024-05-01T12:34:56.789Z'],
    ['2024-05-01T07:34:56-0500', '2024-05-01T12:34:56.000Z'],
    ['2020-11-25 21:27:03.496000000', '2020-11-25T21:27:03.496Z'],
    ['2021-06-04 09:59:53.650807', '2021-06-04T09:59:53.650Z'],
    ['2023-05-26 20:18:51', '2023-05-26T20:18:51.000Z'],
    ['2023-06-12T22:26:01.951000', '2023-06-12T22:26:01.951Z'],
    ['2024-05-01 12:34:56.7', '2024-05-01T12:34:56.700Z'],
  ])('reads %s as %s', (input, expected) => {
    expect(new Date(parseTimestamp(input) ?? Number.NaN).toISOString()).toBe(expected);
  });

  it.each(['redacted', '', '2024-02-30 00:00:00', '2024-05-01', '2024-05-01T25:00:00Z', '1714566896'])('rejects %p', (input) => {
    expect(parseTimestamp(input)).toBeUndefined();
  });
});

describe('eventTimeOf', () => {
  it('prefers p_event_time and falls back to published when it is missing, null or unreadable', () => {
    const published = '2024-05-01T00:00:00Z';
    expect(eventTimeOf({ p_event_time: '2024-05-02 00:00:00.000', published })).toBe(Date.parse('2024-05-02T00:00:00Z'));
    expect(eventTimeOf({ p_event_time: null, published })).toBe(Date.parse(published));
    expect(eventTimeOf({ p_event_time: 'redacted', published })).toBe(Date.parse(published));
    expect(eventTimeOf({ published: 'redacted' })).toBeUndefined();
  });
});

describe('null-aware reads', () => {
  const record = { a: { b: null, c: [{ d: 'x' }], n: '12.5', z: 0 } };
  it('reads JSON null like a missing field', () => {
    expect(field(record, 'a', 'b')).toBeUndefined();
    expect(field(record, 'a', 'b', 'deeper')).toBeUndefined();
    expect(text(record, 'a', 'c', 0, 'd')).toBe('x');
    expect(text(record, 'a', 'z')).toBe('0');
    expect(number(record, 'a', 'n')).toBe(12.5);
    expect(number(record, 'a', 'c')).toBeUndefined();
  });
});
