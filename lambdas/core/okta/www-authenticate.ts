/**
 * The DPoP challenge of a `WWW-Authenticate` header (RFC 9110 section 11.6.1, RFC 9449 sections 7
 * and 9). Okta rejects a DPoP proof at its API with 400, an empty body, and the reason only here:
 *
 *   DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="https://org/oauth2/v1/authorize",
 *   realm="https://org", scope="okta.logs.read", error="invalid_dpop_proof",
 *   error_description="'htu' claim in the DPoP proof JWT is invalid.", resource="/api/v1/logs"
 *
 * (real answers quoted in okta/okta-sdk-nodejs issue 453, okta/okta-sdk-golang issue 554 and
 * okta/terraform-provider-okta issue 2392). Only the `DPoP` challenge's `error` and
 * `error_description` are read; the values are the org's text, to be redacted before showing.
 */

/** The DPoP errors after which a fresh proof may succeed (RFC 9449 sections 7.1 and 9). */
export type DpopChallengeError = 'invalid_dpop_proof' | 'use_dpop_nonce';

export interface DpopChallenge {
  readonly error: DpopChallengeError;
  readonly description: string | undefined;
}

/** auth-scheme, or one auth-param (token = token / quoted-string), in the order they appear. */
const PART =
  /\s*(?:([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[!#$%&'*+.^_`|~0-9A-Za-z-]+)|([!#$%&'*+.^_`|~0-9A-Za-z-]+))\s*,?/gy;

/** The DPoP challenge's `invalid_dpop_proof` or `use_dpop_nonce`, or `undefined` when there is none. */
export function dpopChallengeOf(header: string | null): DpopChallenge | undefined {
  if (header === null) return undefined;
  let scheme: string | undefined;
  const params = new Map<string, string>();
  PART.lastIndex = 0;
  for (let match = PART.exec(header); match !== null && match[0] !== ''; match = PART.exec(header)) {
    const [, name, value, newScheme] = match;
    if (newScheme !== undefined) {
      // A new challenge starts; the DPoP one, once seen, is complete.
      if (scheme?.toLowerCase() === 'dpop') break;
      scheme = newScheme;
      params.clear();
    } else if (name !== undefined && value !== undefined) {
      const key = name.toLowerCase();
      if (!params.has(key)) params.set(key, value.startsWith('"') ? value.slice(1, -1).replace(/\\(.)/g, '$1') : value);
    }
  }
  if (scheme?.toLowerCase() !== 'dpop') return undefined;
  const error = params.get('error');
  if (error !== 'invalid_dpop_proof' && error !== 'use_dpop_nonce') return undefined;
  return { error, description: params.get('error_description') };
}
