/**
 * The DPoP challenge reader decides whether an Okta refusal is retried and what of the org's text
 * is quoted; a response (or anything in front of the org) controls its input completely. Real
 * headers: okta/okta-sdk-nodejs issue 453, okta/okta-sdk-golang issue 554.
 */
import fc from 'fast-check';
import { dpopChallengeOf } from '../../lambdas/core/okta/www-authenticate';

const RUNS = 400;

describe('dpopChallengeOf', () => {
  it.each([
    [
      `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="http://integrator-8941517.okta.com/oauth2/v1/authorize", realm="http://integrator-8941517.okta.com", scope="okta.groups.read", error="invalid_dpop_proof", error_description="'htu' claim in the DPoP proof JWT is invalid.", resource="/api/v1/groups/00gwsh7e1dYS1VtcJ697/users"`,
      { error: 'invalid_dpop_proof', description: "'htu' claim in the DPoP proof JWT is invalid." },
    ],
    [
      'DPoP algs="ES256", error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
      { error: 'use_dpop_nonce', description: 'Resource server requires nonce in DPoP proof' },
    ],
    [
      'Bearer realm="okta", error="invalid_token", DPoP algs="ES256", error=invalid_dpop_proof',
      { error: 'invalid_dpop_proof', description: undefined },
    ],
    [
      'dpop error="invalid_dpop_proof", error_description="a \\"quoted\\" word"',
      { error: 'invalid_dpop_proof', description: 'a "quoted" word' },
    ],
  ])('reads %s', (header, expected) => {
    expect(dpopChallengeOf(header)).toEqual(expected);
  });

  it.each([
    ['no header', null],
    ['a Bearer challenge', 'Bearer realm="okta", error="invalid_token", error_description="The access token is invalid"'],
    ['a DPoP challenge with another error', 'DPoP algs="ES256", error="invalid_token"'],
    ["another scheme's error after the DPoP challenge", 'DPoP algs="ES256", Bearer error="invalid_dpop_proof"'],
    ['an error outside any challenge', 'error="invalid_dpop_proof"'],
  ])('finds no DPoP challenge in %s', (_name, header) => {
    expect(dpopChallengeOf(header)).toBeUndefined();
  });

  it('never throws, and returns only the two retryable errors, for any header text', () => {
    const unit = fc.constantFrom('D', 'P', 'o', 'p', ' ', ',', '=', '"', '\\', 'e', 'r', 'o', 'i', 'n', 'v', 'a', 'l', 'd', '_', '\t');
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 300 }),
          fc.string({ unit, maxLength: 300 }),
          fc.string({ unit, maxLength: 80 }).map((tail) => `DPoP error="invalid_dpop_proof", ${tail}`),
        ),
        (header) => {
          const challenge = dpopChallengeOf(header);
          if (challenge !== undefined) {
            expect(['invalid_dpop_proof', 'use_dpop_nonce']).toContain(challenge.error);
            if (challenge.description !== undefined) expect(typeof challenge.description).toBe('string');
          }
        },
      ),
      { numRuns: RUNS },
    );
  });
});
