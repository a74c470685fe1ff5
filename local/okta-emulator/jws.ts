/**
 * Just enough JWS (RFC 7515) to verify what Okta's token endpoint and resource server receive:
 * compact RS256 and ES256 signatures, and JWK thumbprints (RFC 7638) for DPoP key binding.
 * node:crypto only.
 */
import { createHash, createPublicKey, verify, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface DecodedJws {
  readonly header: Readonly<Record<string, unknown>>;
  readonly payload: Readonly<Record<string, unknown>>;
  readonly signingInput: string;
  readonly signature: Buffer;
}

/** Splits and decodes a compact JWS; undefined when it is not one (the caller says why to the client). */
export function decodeJws(compact: string): DecodedJws | undefined {
  const parts = compact.split('.');
  if (parts.length !== 3) {
    return undefined;
  }
  const header = parseJsonObject(parts[0]);
  const payload = parseJsonObject(parts[1]);
  if (header === undefined || payload === undefined) {
    return undefined;
  }
  return { header, payload, signingInput: `${parts[0]}.${parts[1]}`, signature: Buffer.from(parts[2], 'base64url') };
}

/**
 * Whether `jws` is signed by `key` with the algorithm its header names. The algorithm must suit
 * the key (RS256 an RSA key, ES256 a P-256 key), so that a token cannot pick a weaker check.
 */
export function verifyJws(jws: DecodedJws, key: KeyObject): boolean {
  const alg = jws.header.alg;
  if (alg === 'RS256' && key.asymmetricKeyType === 'rsa') {
    return verify('sha256', Buffer.from(jws.signingInput), key, jws.signature);
  }
  if (alg === 'ES256' && key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return (
      jws.signature.length === 64 &&
      verify('sha256', Buffer.from(jws.signingInput), { key, dsaEncoding: 'ieee-p1363' }, jws.signature)
    );
  }
  return false;
}

/** The public key of a JWK from a DPoP header; undefined when it is not a usable public RSA or EC key. */
export function publicKeyFromJwk(jwk: unknown): KeyObject | undefined {
  if (typeof jwk !== 'object' || jwk === null || 'd' in jwk) {
    return undefined;
  }
  try {
    return createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
}

/** RFC 7638 thumbprint (SHA-256, base64url) of an RSA or EC public JWK: what a DPoP token is bound to. */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { e: jwk.e, kty: jwk.kty, n: jwk.n };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** base64url(SHA-256(text)): DPoP's `ath` of an access token. */
export function sha256Base64url(text: string): string {
  return createHash('sha256').update(text).digest('base64url');
}

function parseJsonObject(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
