/**
 * JWS checks of the emulated org, done by `jose` (panva/jose), not by code of ours: the emulator
 * is a test oracle, so its verdict on a signature must not share our client's mistakes. Okta
 * accepts RS256/384/512 and ES256/384/512 (the `algs` of its DPoP challenge, quoted in
 * okta/okta-sdk-nodejs issue 453); an algorithm must suit the key, so a token cannot pick a weaker check.
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose' with { 'resolution-mode': 'import' };

// eslint-disable-next-line @typescript-eslint/no-unsafe-assignment -- typescript-eslint reads an import type's attributes as an untyped object literal
type Jose = typeof import('jose', { with: { 'resolution-mode': 'import' } });
let loaded: Promise<Jose> | undefined;
/** jose 6 is an ES module only: imported dynamically from our CommonJS (jest compiles it, see jest.config.js). */
export const loadJose = (): Promise<Jose> => (loaded ??= import('jose'));

/** The algorithms Okta announces in `WWW-Authenticate: DPoP algs="..."`. */
export const OKTA_JWS_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'ES256', 'ES384', 'ES512'] as const;

const EC_ALGORITHM_BY_CURVE: Readonly<Record<string, string>> = { prime256v1: 'ES256', secp384r1: 'ES384', secp521r1: 'ES512' };

export interface VerifiedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
}

/** The unverified claims of a compact JWT (to find whose key checks it); undefined when it is not one. */
export async function peekClaims(compact: string): Promise<Readonly<Record<string, unknown>> | undefined> {
  const { decodeJwt } = await loadJose();
  try {
    return decodeJwt(compact);
  } catch {
    return undefined;
  }
}

/** The verified header and claims when `compact` is signed by `key` with an algorithm that suits it; undefined otherwise. */
export async function verifyJws(compact: string, key: KeyObject): Promise<VerifiedJws | undefined> {
  const algorithm =
    key.asymmetricKeyType === 'rsa'
      ? ['RS256', 'RS384', 'RS512']
      : [EC_ALGORITHM_BY_CURVE[key.asymmetricKeyDetails?.namedCurve ?? ''] ?? 'none'];
  return verifyWith(compact, key, algorithm);
}

/**
 * A DPoP proof checked against the public key in its own `jwk` header (RFC 9449 section 4.3);
 * jose refuses a `jwk` with private members. Undefined when the signature or the key is not good.
 */
export async function verifyWithEmbeddedKey(compact: string): Promise<VerifiedJws | undefined> {
  const { EmbeddedJWK } = await loadJose();
  return verifyWith(compact, EmbeddedJWK, [...OKTA_JWS_ALGORITHMS]);
}

async function verifyWith(
  compact: string,
  key: KeyObject | Parameters<Jose['compactVerify']>[1],
  algorithms: string[],
): Promise<VerifiedJws | undefined> {
  const { compactVerify } = await loadJose();
  try {
    const { payload, protectedHeader } = await compactVerify(compact, key, { algorithms });
    const claims: unknown = JSON.parse(new TextDecoder().decode(payload));
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) return undefined;
    return { header: protectedHeader, payload: claims as Record<string, unknown> };
  } catch {
    return undefined;
  }
}

/** RFC 7638 thumbprint (SHA-256) of a public JWK, by jose: what a DPoP token is bound to. */
export async function jwkThumbprint(jwk: unknown): Promise<string | undefined> {
  const { calculateJwkThumbprint } = await loadJose();
  try {
    return await calculateJwkThumbprint(jwk as JWK);
  } catch {
    return undefined;
  }
}
