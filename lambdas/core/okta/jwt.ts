import { createHash, createPrivateKey, sign, type KeyObject } from 'node:crypto';

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

/** Okta refuses RSA keys below 2048 bits for private_key_jwt. */
export const MIN_RSA_MODULUS_BITS = 2048;

/** Why a PEM cannot sign Okta client assertions. */
export type SigningKeyProblem =
  | { readonly kind: 'unloadable' }
  | { readonly kind: 'rsa-too-short'; readonly bits: number }
  | { readonly kind: 'unsupported-curve'; readonly curve: string }
  | { readonly kind: 'unsupported-type'; readonly type: string };

export type SigningKeyVerdict =
  | { readonly key: KeyObject; readonly alg: JwsAlgorithm; readonly problem?: never }
  | { readonly key?: never; readonly alg?: never; readonly problem: SigningKeyProblem };

/**
 * Loads a private key for `private_key_jwt`: RSA of at least 2048 bits (RS256), or EC on P-256,
 * P-384 or P-521 (ES256/384/512), the keys Okta accepts. The one rule for the secret parser (which
 * refuses a bad key as a configuration error of the source) and the authenticator (which signs).
 * OpenSSL's reason for a key that does not load is dropped: it adds nothing for the reader, and
 * the key must not travel in a cause.
 */
export function loadSigningKey(pem: string): SigningKeyVerdict {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    return { problem: { kind: 'unloadable' } };
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0;
    return bits < MIN_RSA_MODULUS_BITS ? { problem: { kind: 'rsa-too-short', bits } } : { key, alg: 'RS256' };
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details?.namedCurve ?? 'unknown';
    const alg = EC_CURVE_ALGORITHMS[curve];
    return alg === undefined ? { problem: { kind: 'unsupported-curve', curve } } : { key, alg };
  }
  return { problem: { kind: 'unsupported-type', type: key.asymmetricKeyType ?? 'unknown' } };
}

/** What is wrong with the key, after the name of the field that holds it; never any of the key. */
export function describeSigningKeyProblem(problem: SigningKeyProblem): string {
  switch (problem.kind) {
    case 'unloadable':
      return 'is not an unencrypted PEM private key that node:crypto can load (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----")';
    case 'rsa-too-short':
      return `is a ${problem.bits}-bit RSA key; Okta requires at least ${MIN_RSA_MODULUS_BITS} bits`;
    case 'unsupported-curve':
      return `is an EC key on curve ${problem.curve}; Okta accepts P-256, P-384 and P-521`;
    case 'unsupported-type':
      return `is a ${problem.type} key; Okta's private_key_jwt needs an RSA or EC (P-256/P-384/P-521) key`;
  }
}

/**
 * A compact JWS over the JSON header and payload. ECDSA signatures use the IEEE P1363 (r || s)
 * encoding that JWS requires, not OpenSSL's default DER.
 */
export function signJwt(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject, alg: JwsAlgorithm): string {
  const signingInput = `${base64url(JSON.stringify({ ...header, alg }))}.${base64url(JSON.stringify(payload))}`;
  const data = Buffer.from(signingInput, 'utf8');
  const signature =
    alg === 'RS256' ? sign(ALGORITHM_HASH[alg], data, key) : sign(ALGORITHM_HASH[alg], data, { key, dsaEncoding: 'ieee-p1363' });
  return `${signingInput}.${base64url(signature)}`;
}
