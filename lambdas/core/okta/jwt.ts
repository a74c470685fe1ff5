import { createHash, sign, type KeyObject } from 'node:crypto';

/** The JWS algorithms this client signs with: RS256 for RSA keys, ES256/384/512 by EC curve. */
export type JwsAlgorithm = 'RS256' | 'ES256' | 'ES384' | 'ES512';

const EC_CURVE_ALGORITHMS: Readonly<Record<string, JwsAlgorithm>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

const ALGORITHM_HASH: Readonly<Record<JwsAlgorithm, string>> = {
  RS256: 'sha256',
  ES256: 'sha256',
  ES384: 'sha384',
  ES512: 'sha512',
};

export function base64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** base64url(SHA-256(text)): the DPoP `ath` claim. */
export function sha256Base64url(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64url');
}

/** The algorithm a private key signs with, or `undefined` when Okta would not accept the key type. */
export function jwsAlgorithmFor(key: KeyObject): JwsAlgorithm | undefined {
  if (key.asymmetricKeyType === 'rsa') return 'RS256';
  if (key.asymmetricKeyType === 'ec') return EC_CURVE_ALGORITHMS[key.asymmetricKeyDetails?.namedCurve ?? ''];
  return undefined;
}

/**
 * A compact JWS over the JSON header and payload. ECDSA signatures use the IEEE P1363 (r || s)
 * encoding that JWS requires, not OpenSSL's default DER.
 */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, alg: JwsAlgorithm): string {
  const signingInput = `${base64url(JSON.stringify({ ...header, alg }))}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(signingInput, 'utf8');
  const signature = alg === 'RS256' ? sign(ALGORITHM_HASH[alg], data, key) : sign(ALGORITHM_HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}
