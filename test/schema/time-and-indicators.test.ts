import { isIP, isIPv4 } from 'node:net';
import fc from 'fast-check';
import { compileIndicators, isDottedQuad, isEmailAddress, isIpAddress, uniqueSorted } from '../../lambdas/core/schema/indicators';
import { coerceLosslessly } from '../../lambdas/core/schema/coercion';
import { isRfc3339, rfc3339ToUtc, timestampToUtc, unixToUtc } from '../../lambdas/core/schema/time-formats';
import type { FieldStep } from '../../lambdas/core/schema/plan';
import type { IndicatorKind } from '../../lambdas/core/schema/vocabulary';

describe('RFC 3339', () => {
  it.each([
    '2024-05-01T12:34:56Z',
    '2024-05-01T12:34:56.1Z',
    '2024-05-01T12:34:56.123456789Z',
    '2024-02-29T00:00:00Z',
    '2000-02-29T23:59:59+14:00',
    '2024-05-01t12:34:56z',
  ])('accepts %s', (value) => {
    expect(isRfc3339(value)).toBe(true);
  });

  it.each([
    ['ten fractional digits', '2024-05-01T12:34:56.1234567890Z'],
    ['a dot without digits', '2024-05-01T12:34:56.Z'],
    ['no time zone', '2024-05-01T12:34:56.789'],
    ['a space for T', '2022-03-22 14:21:53.225Z'],
    ['September 31st', '2017-09-31T22:23:07.777Z'],
    ['February 29th of a common year', '1900-02-29T00:00:00Z'],
    ['hour 24', '2024-05-01T24:00:00Z'],
    ['a leap second', '2016-12-31T23:59:60Z'],
    ['an offset without colon', '2024-05-01T12:34:56+0200'],
    ['an offset of 24 hours', '2024-05-01T12:34:56+24:00'],
    ['trailing text', '2024-05-01T12:34:56Z '],
    ['a placeholder', 'redacted'],
  ])('rejects %s', (_label, value) => {
    expect(isRfc3339(value)).toBe(false);
  });

  it('converts offsets to UTC across day, month and year boundaries, keeping the fraction', () => {
    expect(rfc3339ToUtc('2024-01-01T00:30:00.25+01:00')).toBe('2023-12-31T23:30:00.25Z');
    expect(rfc3339ToUtc('0050-06-01T12:00:00-03:00')).toBe('0050-06-01T15:00:00Z');
    expect(rfc3339ToUtc('0000-01-01T00:00:00+00:01')).toBeUndefined();
  });
});

describe('Unix times', () => {
  it.each([
    [1700000000, 'unix', '2023-11-14T22:13:20Z'],
    [1700000000.5, 'unix', '2023-11-14T22:13:20.5Z'],
    [-1.5, 'unix', '1969-12-31T23:59:58.500Z'],
    [1700000000123, 'unix_ms', '2023-11-14T22:13:20.123Z'],
    [1700000000123456, 'unix_us', '2023-11-14T22:13:20.123456Z'],
    [-1, 'unix_us', '1969-12-31T23:59:59.999999Z'],
    [1700000000123456, 'unix_ns', '1970-01-20T16:13:20.000123456Z'],
  ] as const)('%p as %s is %s', (value, format, expected) => {
    expect(unixToUtc(value, format)).toBe(expected);
  });

  it('refuses what cannot be a time of that unit', () => {
    expect(unixToUtc(1.5, 'unix_ms')).toBeUndefined();
    expect(unixToUtc(1e300, 'unix')).toBeUndefined();
    expect(unixToUtc(3e14, 'unix_ms')).toBeUndefined();
  });

  it('tries a list of formats in order', () => {
    expect(timestampToUtc('1700000000', ['rfc3339', 'unix'])).toBe('2023-11-14T22:13:20Z');
    expect(timestampToUtc('2023-11-14T22:13:20Z', ['unix', 'rfc3339'])).toBe('2023-11-14T22:13:20Z');
    expect(timestampToUtc(true, ['rfc3339', 'unix'])).toBeUndefined();
  });
});

describe('lossless coercion', () => {
  it.each([
    [0, { type: 'string' }, '0'],
    [-1.25, { type: 'string' }, '-1.25'],
    [true, { type: 'string' }, 'true'],
    ['42', { type: 'int' }, 42],
    ['-7', { type: 'smallint' }, -7],
    ['0.5', { type: 'float' }, 0.5],
    ['false', { type: 'boolean' }, false],
    ['1700000000123', { type: 'timestamp', timeFormats: ['unix_ms'] }, 1700000000123],
  ] as const)('%p to %j is %p', (value, declared, expected) => {
    expect(coerceLosslessly(value, declared)).toBe(expected);
  });

  it.each([
    ['0042', { type: 'int' }],
    ['1.5', { type: 'int' }],
    ['1e3', { type: 'float' }],
    ['', { type: 'float' }],
    ['9007199254740993', { type: 'bigint' }],
    ['TRUE', { type: 'boolean' }],
    [1, { type: 'boolean' }],
    [null, { type: 'string' }],
    [{}, { type: 'string' }],
    [1700000000, { type: 'timestamp', timeFormats: ['rfc3339'] }],
    ['1.5', { type: 'timestamp', timeFormats: ['unix_ms'] }],
  ] as const)('leaves %p for %j alone', (value, declared) => {
    expect(coerceLosslessly(value, declared)).toBeUndefined();
  });
});

describe('indicators', () => {
  it("isIpAddress agrees with Node's net.isIP on addresses, near-addresses and junk", () => {
    const octet = fc.oneof(fc.integer({ min: 0, max: 300 }).map(String), fc.constantFrom('00', '01', '000', '255', '256', ''));
    const v4 = fc.array(octet, { minLength: 3, maxLength: 5 }).map((parts) => parts.join('.'));
    const hextet = fc.oneof(
      fc.integer({ min: 0, max: 0xfffff }).map((n) => n.toString(16)),
      fc.constant(''),
    );
    const v6 = fc.array(hextet, { minLength: 2, maxLength: 9 }).map((parts) => parts.join(':'));
    const mixed = fc.tuple(v6, v4).map(([six, four]) => `${six}:${four}`);
    const zoned = fc.tuple(v6, fc.constantFrom('%eth0', '%1', '%')).map(([six, zone]) => `${six}${zone}`);
    const anything = fc.oneof(
      v4,
      v6,
      mixed,
      zoned,
      fc.string(),
      fc.constantFrom('::', '::1', '1::', '000.000.00.000', '[::1]', ' 10.0.0.1', '10.0.0.1\n'),
    );
    fc.assert(
      fc.property(anything, (value) => isIpAddress(value) === (isIP(value) !== 0)),
      { numRuns: 20_000 },
    );
  });

  it("isDottedQuad agrees with Node's net.isIPv4 on every octet, with and without leading zeros, and on digit-and-dot strings", () => {
    const disagreements: string[] = [];
    for (let octet = 0; octet < 1000; octet += 1) {
      for (const text of [String(octet), String(octet).padStart(2, '0'), String(octet).padStart(3, '0')]) {
        for (const address of [`${text}.0.0.0`, `1.${text}.1.1`, `255.255.255.${text}`]) {
          if (isDottedQuad(address) !== isIPv4(address)) disagreements.push(address);
        }
      }
    }
    expect(disagreements).toEqual([]);
    const digitsAndDots = fc.string({ unit: fc.constantFrom('0', '1', '2', '5', '9', '.', '.', ' ', 'a', '/', ':'), maxLength: 17 });
    fc.assert(
      fc.property(digitsAndDots, (value) => isDottedQuad(value) === isIPv4(value)),
      { numRuns: 50_000 },
    );
  });

  /** The pattern `isEmailAddress` reads by hand, kept here as what it must agree with. */
  const EMAIL_PATTERN = /^[^\s@"<>(),;:\\[\]]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$/;

  it('isEmailAddress agrees with its regular expression on every UTF-16 code unit in either part', () => {
    const disagreements: string[] = [];
    for (let code = 0; code < 0x10000; code += 1) {
      const character = String.fromCharCode(code);
      for (const value of [
        `a${character}b@example.com`,
        `ab@ex${character}ample.com`,
        `ab@example.c${character}m`,
        `${character}@a.b`,
        `a@${character}.bc`,
      ]) {
        if (isEmailAddress(value) !== EMAIL_PATTERN.test(value)) disagreements.push(JSON.stringify(value));
      }
    }
    expect(disagreements).toEqual([]);
  });

  it('isEmailAddress agrees with its regular expression on near-addresses: label lengths, hyphens, dots, several @', () => {
    const unit = fc.constantFrom('a', 'Z', '0', '9', '-', '.', '@', '_', ' ', '\u00a0', '\u2028', '"', '<', '\\', '[', ':', 'é');
    const label = fc.oneof(
      fc.string({ unit, maxLength: 6 }),
      fc.string({ unit: fc.constantFrom('a', '0', '-'), minLength: 60, maxLength: 66 }),
    );
    const nearAddress = fc
      .tuple(fc.string({ unit, maxLength: 6 }), fc.array(label, { maxLength: 4 }))
      .map(([local, labels]) => `${local}@${labels.join('.')}`);
    const anything = fc.oneof(nearAddress, fc.string({ unit, maxLength: 20 }), fc.string());
    fc.assert(
      fc.property(anything, (value) => isEmailAddress(value) === EMAIL_PATTERN.test(value)),
      { numRuns: 50_000 },
    );
  });

  it('paths merged into one tree collect what each path collects alone (shared prefixes, arrays, a path ending where another goes on)', () => {
    const step = fc.constantFrom<FieldStep>('a', 'b', 'ip', null);
    const kind = fc.constantFrom<IndicatorKind>('ip', 'email', 'domain', 'url', 'hostname', 'username', 'md5');
    const plans = fc.array(fc.record({ kind, steps: fc.array(step, { maxLength: 3 }) }), { minLength: 1, maxLength: 6 });
    const leaf = fc.constantFrom(
      '10.0.0.1',
      '::1',
      'a.b@example.com',
      'example.com',
      'https://x.example.org/',
      ' jane ',
      'd41d8cd98f00b204e9800998ecf8427e',
      'unknown',
      '',
    );
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        leaf,
        fc.constant(null),
        fc.integer(),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom('a', 'b', 'ip'), tie('node'), { maxKeys: 3 }),
      ),
    })).node;
    const sortedUnique = (collector: ReturnType<typeof compileIndicators>, event: unknown): Map<string, string[]> => {
      const buckets = collector.collect(event);
      return new Map(collector.fields.map((field, index) => [field, uniqueSorted([...(buckets[index] ?? [])])]));
    };
    fc.assert(
      fc.property(plans, value, (planList, event) => {
        const merged = sortedUnique(compileIndicators(planList), event);
        const alone = new Map<string, string[]>();
        for (const plan of planList) {
          for (const [field, values] of sortedUnique(compileIndicators([plan]), event))
            alone.set(field, uniqueSorted([...(alone.get(field) ?? []), ...values]));
        }
        expect(merged).toEqual(alone);
      }),
      { numRuns: 3_000 },
    );
  });

  function collect(kind: IndicatorKind, values: string[]): Record<string, string[]> {
    const collector = compileIndicators([{ kind, steps: [null] }]);
    const buckets = collector.collect(values);
    return Object.fromEntries(
      collector.fields.flatMap((field, index) => (buckets[index] ? [[field, uniqueSorted(buckets[index] ?? [])]] : [])),
    );
  }

  it.each([
    ['ip', ['10.0.0.1', '::1', '000.000.00.000', '10.0.0.256', 'unknown'], { p_any_ip_addresses: ['10.0.0.1', '::1'] }],
    ['email', ['a.b@example.com', 'unknown', 'someid', 'x@localhost', 'Jane <j@example.com>'], { p_any_emails: ['a.b@example.com'] }],
    [
      'domain',
      ['comcast.net', '.', 'localhost', 'Sub.Example.ORG', '10.0.0.1'],
      { p_any_domain_names: ['Sub.Example.ORG', 'comcast.net'] },
    ],
    [
      'url',
      ['https://login.example.com/path?q=1', 'http://[2001:db8::2]:8080/', 'not a url'],
      { p_any_domain_names: ['login.example.com'], p_any_ip_addresses: ['2001:db8::2'] },
    ],
    ['hostname', ['db.internal.example', '192.0.2.1'], { p_any_domain_names: ['db.internal.example'], p_any_ip_addresses: ['192.0.2.1'] }],
    ['md5', ['d41d8cd98f00b204e9800998ecf8427e', 'xyz'], { p_any_md5_hashes: ['d41d8cd98f00b204e9800998ecf8427e'] }],
    ['sha1', ['da39a3ee5e6b4b0d3255bfef95601890afd80709'], { p_any_sha1_hashes: ['da39a3ee5e6b4b0d3255bfef95601890afd80709'] }],
    [
      'sha256',
      ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', 'd41d8cd98f00b204e9800998ecf8427e'],
      { p_any_sha256_hashes: ['e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'] },
    ],
    ['aws_account_id', ['123456789012', '12345'], { p_any_aws_account_ids: ['123456789012'] }],
    ['aws_arn', ['arn:aws:iam::123456789012:role/x', 'arn:nope'], { p_any_aws_arns: ['arn:aws:iam::123456789012:role/x'] }],
    ['aws_instance_id', ['i-0123456789abcdef0', 'i-12345678', 'i-xyz'], { p_any_aws_instance_ids: ['i-0123456789abcdef0', 'i-12345678'] }],
    [
      'mac',
      ['00:1A:2b:3c:4d:5e', '00-1a-2b-3c-4d-5e', '001a2b3c4d5e', '00:1a-2b:3c:4d:5e'],
      { p_any_mac_addresses: ['00-1a-2b-3c-4d-5e', '001a2b3c4d5e', '00:1A:2b:3c:4d:5e'] },
    ],
    ['username', [' jane ', '', 'jane'], { p_any_usernames: ['jane'] }],
    ['trace_id', ['abc'], { p_any_trace_ids: ['abc'] }],
    ['serial_number', ['SN1'], { p_any_serial_numbers: ['SN1'] }],
    ['aws_tag', ['env:prod'], { p_any_aws_tags: ['env:prod'] }],
    ['actor_id', ['00u1'], { p_any_actor_ids: ['00u1'] }],
  ] as const)('%s keeps only real values', (kind, values, expected) => {
    expect(collect(kind, [...values])).toEqual(expected);
  });
});
