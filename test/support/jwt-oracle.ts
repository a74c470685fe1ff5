/**
 * Checks of the JWTs our client signs, by code we did not write: `jose` (panva/jose) verifies the
 * signature and the registered claims, and the rules checked are those of RFC 7523 section 3
 * (client assertions: iss = sub = client id, aud = the token endpoint, exp) and RFC 9449 section 4.2
 * / 4.3 (DPoP proofs: typ dpop+jwt, a public jwk only, jti, htm, htu without query and fragment,
 * iat, ath = base64url(SHA-256(access token)), nonce when the server gave one).
 */
import type { KeyObject } from 'node:crypto';
import type { JWTPayload, JWTVerifyResult, ProtectedHeaderParameters } from 'jose' with { 'resolution-mode': 'import' };
import { OKTA_JWS_ALGORITHMS, loadJose as jose } from '../../local/okta-emulator/jws';

const OKTA_ALGORITHMS = [...OKTA_JWS_ALGORITHMS];

/** Members a public JWK must not carry (RFC 7517 sections 6.2.2, 6.3.2, 6.4.1). */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

export interface AssertionExpectation {
  readonly clientId: string;
  readonly tokenUrl: string;
  /** Epoch ms at which the assertion is checked (the client's clock). */
  readonly now: number;
}

/** Verifies a `private_key_jwt` client assertion (RFC 7523 section 3) with `jose`; throws when it is not one. */
export async function verifyClientAssertion(
  compact: string,
  publicKey: KeyObject,
  expected: AssertionExpectation,
): Promise<JWTVerifyResult> {
  const { jwtVerify } = await jose();
  return jwtVerify(compact, publicKey, {
    algorithms: OKTA_ALGORITHMS,
    issuer: expected.clientId,
    subject: expected.clientId,
    audience: expected.tokenUrl,
    requiredClaims: ['iss', 'sub', 'aud', 'exp'],
    currentDate: new Date(expected.now),
  });
}

export interface ProofExpectation {
  readonly htm: string;
  /** The request URL; `htu` must be it without query and fragment. */
  readonly url: string;
  readonly now: number;
  readonly accessToken?: string;
  readonly nonce?: string;
}

export interface VerifiedProof {
  readonly header: ProtectedHeaderParameters;
  readonly payload: JWTPayload;
}

/** Verifies a DPoP proof (RFC 9449 section 4.3) with `jose`, against the key in its own header; throws when it is not one. */
export async function verifyDpopProof(compact: string, expected: ProofExpectation): Promise<VerifiedProof> {
  const { jwtVerify, EmbeddedJWK, base64url } = await jose();
  const { protectedHeader, payload } = await jwtVerify(compact, EmbeddedJWK, {
    typ: 'dpop+jwt',
    algorithms: OKTA_ALGORITHMS,
    requiredClaims: ['jti', 'htm', 'htu', 'iat'],
    currentDate: new Date(expected.now),
    maxTokenAge: '5m',
  });
  const jwk = protectedHeader.jwk ?? {};
  const leaked = PRIVATE_JWK_MEMBERS.filter((member) => member in jwk);
  if (leaked.length > 0) throw new Error(`the DPoP proof's jwk carries private members: ${leaked.join(', ')}`);
  const target = new URL(expected.url);
  const problems = [
    payload.htm === expected.htm ? undefined : `htm ${String(payload.htm)}, expected ${expected.htm}`,
    payload.htu === `${target.origin}${target.pathname}`
      ? undefined
      : `htu ${String(payload.htu)}, expected ${target.origin}${target.pathname}`,
    typeof payload.jti === 'string' && payload.jti.length >= 16 ? undefined : 'jti missing or too short to be unique',
  ];
  if (expected.accessToken === undefined) {
    if (payload.ath !== undefined) problems.push('ath on a proof without an access token');
  } else {
    const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(expected.accessToken));
    const ath = base64url.encode(new Uint8Array(digest));
    if (payload.ath !== ath) problems.push(`ath ${String(payload.ath)}, expected ${ath}`);
  }
  if (payload.nonce !== expected.nonce) problems.push(`nonce ${String(payload.nonce)}, expected ${String(expected.nonce)}`);
  const found = problems.filter((problem) => problem !== undefined);
  if (found.length > 0) throw new Error(`DPoP proof: ${found.join('; ')}`);
  return { header: protectedHeader, payload };
}
