/**
 * Fuzzing the two functions that decide where the puller's credential goes next: the Link header
 * parser (Okta's `next` link) and the same-origin check every link passes before it is followed.
 * An Okta response (or anything in front of the org) controls both inputs completely.
 */
import fc from 'fast-check';
import { ForeignOriginError, parseLinkHeader } from '../../lambdas/core/okta';
import { sameOriginUrl } from '../../lambdas/core/okta/org-origin';

const ORIGIN = 'https://acme.okta.com';
/** Runs per property: enough to meet the odd shapes, few enough to keep the suite at seconds. */
const RUNS = 400;

/** A URL as servers write them inside `<...>`: commas and semicolons included; never a raw `<` or `>` (RFC 3986). */
const linkTarget = fc
  .string({ unit: fc.constantFrom('a', 'b', '/', '?', '&', '=', ',', ';', ' ', '"', '%', ':', '.'), maxLength: 30 })
  .map((tail) => `${ORIGIN}/api/v1/logs${tail}`);
const relation = fc.constantFrom('next', 'self', 'prev', 'NEXT', 'Next', 'alternate');

describe('parseLinkHeader under arbitrary input', () => {
  it('never throws and returns only string targets for any header text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 200 }),
          fc.string({ unit: fc.constantFrom('<', '>', ';', ',', '=', '"', ' ', 'r', 'e', 'l', 'n', 'x', 't'), maxLength: 200 }),
        ),
        (header) => {
          const links = parseLinkHeader(header);
          for (const [key, target] of links) {
            expect(typeof key).toBe('string');
            expect(key).toBe(key.toLowerCase());
            expect(typeof target).toBe('string');
            expect(target).not.toContain('>');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('finds the first next link whether the links come as separate lines joined by ", " or one line, whatever their order and extra parameters', () => {
    const link = fc.record({
      target: linkTarget,
      rel: relation,
      quoted: fc.boolean(),
      extra: fc.constantFrom('', '; type="application/json"', '; title=x', ';foo=bar'),
      spaces: fc.constantFrom('', ' ', '  '),
    });
    fc.assert(
      fc.property(fc.array(link, { minLength: 1, maxLength: 5 }), (links) => {
        const rendered = links.map((l) => `<${l.target}>${l.spaces};${l.spaces}rel=${l.quoted ? `"${l.rel}"` : l.rel}${l.extra}`);
        const expectedNext = links.find((l) => l.rel.toLowerCase() === 'next')?.target.trim();
        expect(parseLinkHeader(rendered.join(', ')).get('next')).toBe(expectedNext);
      }),
      { numRuns: RUNS },
    );
  });

  // Sizes far above Node's 16 KiB header limit: a parser quadratic in the header's length (as a
  // stray `<` once made this one) needs minutes for them and trips the test's timeout; linear takes ms.
  it('finishes on hostile headers built to make a regular expression backtrack', () => {
    const hostile = [
      '<'.repeat(300_000),
      `${'<'.repeat(150_000)}>`,
      `<${ORIGIN}>${'; '.repeat(100_000)}`,
      `<${ORIGIN}>;${' '.repeat(300_000)}rel=next`,
      `<${'a'.repeat(300_000)}`,
      `${'<x>;rel=next,'.repeat(20_000)}`,
      `<${ORIGIN}>; rel=${'next '.repeat(50_000)}`,
    ];
    for (const header of hostile) expect(parseLinkHeader(header)).toBeInstanceOf(Map);
    expect(parseLinkHeader(`${'<'.repeat(100_000)}<${ORIGIN}/next>; rel="next"`).get('next')).toBe(`${ORIGIN}/next`);
  }, 15_000);
});

describe('sameOriginUrl under arbitrary links', () => {
  const hostileLink = fc.oneof(
    fc.string({ maxLength: 80 }),
    fc.webUrl({ withQueryParameters: true, withFragments: true }),
    fc.constantFrom(
      '//attacker.example/api/v1/logs',
      'https://acme.okta.com.attacker.example/api/v1/logs',
      'https://acme.okta.com@attacker.example/api/v1/logs',
      'https://user:pass@acme.okta.com/api/v1/logs',
      'http://acme.okta.com/api/v1/logs',
      'https://acme.okta.com:444/api/v1/logs',
      'HTTPS://ACME.OKTA.COM/api/v1/logs?after=1',
      '/api/v1/logs?after=abc',
      '../../api/v1/logs',
      'javascript:alert(1)',
      'https://acme.okta.com\\@attacker.example/',
      'https://attacker.example\\.acme.okta.com/',
      'https://acme.okta.com%2f@attacker.example/',
    ),
    fc.string({ maxLength: 40 }).map((tail) => `${ORIGIN}${tail}`),
  );

  it('returns only URLs on the org origin without user info, and otherwise throws ForeignOriginError', () => {
    fc.assert(
      fc.property(hostileLink, (link) => {
        let result: string;
        try {
          result = sameOriginUrl('acme', ORIGIN, link, `${ORIGIN}/api/v1/logs`, 'the next link');
        } catch (error) {
          expect(error).toBeInstanceOf(ForeignOriginError);
          return;
        }
        const url = new URL(result);
        expect(url.origin).toBe(ORIGIN);
        expect(url.username).toBe('');
        expect(url.password).toBe('');
        // What is returned is what fetch will request: it must resolve to the same origin on its own.
        expect(new URL(result, 'https://elsewhere.example').origin).toBe(ORIGIN);
      }),
      { numRuns: RUNS },
    );
  });
});
