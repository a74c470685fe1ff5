/**
 * The org authorization server's token endpoint (`POST /oauth2/v1/token`) for OAuth 2.0 service
 * apps, and the checks the resource server makes on `Bearer` and `DPoP` access tokens. Follows
 * OKTA_API.md ("Authentication"): client credentials with `private_key_jwt` only, scope
 * `okta.logs.read`, tokens for 3600 s by the org's clock, and DPoP (RFC 9449) for apps that
 * require it, with the nonce dance at the token endpoint.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Clock } from '../../lambdas/core/ports';
import { oktaError, type ErrorAnswer } from './errors';
import { decodeJws, jwkThumbprint, publicKeyFromJwk, sha256Base64url, verifyJws, type DecodedJws } from './jws';

/** Okta's access tokens for service apps live one hour. */
export const ACCESS_TOKEN_LIFETIME_S = 3600;
/** Okta refuses client assertions that expire more than an hour ahead. */
export const MAX_ASSERTION_LIFETIME_MS = 3_600_000;
/** How old (or how far ahead of the org's clock) a DPoP proof's `iat` may be: Okta's clock-skew allowance. */
export const DPOP_PROOF_MAX_AGE_MS = 5 * 60_000;
/** How long a `dpop-nonce` stays valid; after that the client gets `use_dpop_nonce` again. */
export const DPOP_NONCE_LIFETIME_MS = 60 * 60_000;
/** The only scope the emulator grants: reading the System Log. */
export const LOGS_SCOPE = 'okta.logs.read';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface OAuthClientRegistration {
  readonly clientId: string;
  /** The app's public key (KeyObject, or PEM / SPKI text). */
  readonly publicKey: KeyObject | string;
  /** The app requires DPoP-bound tokens ("Require DPoP" in Okta). @default false */
  readonly dpop?: boolean;
}

/** An answer of the token endpoint: an OAuth JSON body, and extra headers (`dpop-nonce`). */
export interface TokenAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** What the resource server needs to check a request's access token. */
export interface ResourceRequest {
  readonly scheme: 'Bearer' | 'DPoP';
  readonly token: string;
  readonly dpopProof: string | undefined;
  readonly method: string;
  /** Origin and path of the request, without query: the `htu` a DPoP proof must name. */
  readonly uri: string;
}

interface Client {
  readonly clientId: string;
  readonly key: KeyObject;
  readonly dpop: boolean;
}

interface IssuedToken {
  readonly clientId: string;
  readonly expiresAt: number;
  readonly scopes: readonly string[];
  /** Thumbprint of the DPoP key the token is bound to. */
  readonly jkt?: string;
}

export class OAuthAuthority {
  private readonly clients = new Map<string, Client>();
  private readonly tokens = new Map<string, IssuedToken>();
  /** `jti`s already used, with the time until which they must be remembered. */
  private readonly usedJtis = new Map<string, number>();
  private readonly nonces = new Map<string, number>();

  constructor(
    private readonly clock: Clock,
    private readonly tokenUrl: () => string,
  ) {}

  register(registration: OAuthClientRegistration): void {
    const key = typeof registration.publicKey === 'string' ? createPublicKey(registration.publicKey) : registration.publicKey;
    if (key.type !== 'public') {
      throw new TypeError(`okta emulator: OAuth client ${registration.clientId}: register the public key, not the private one`);
    }
    this.clients.set(registration.clientId, { clientId: registration.clientId, key, dpop: registration.dpop ?? false });
  }

  /** Invalidates every access token issued so far (clients must fetch new ones). */
  revokeAccessTokens(): void {
    this.tokens.clear();
  }

  token(form: URLSearchParams, dpopProof: string | undefined): TokenAnswer {
    const now = this.clock.now();
    this.forgetExpired(now);
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(400, 'unsupported_grant_type', 'The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].');
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      return oauthError(401, 'invalid_client', `client_assertion_type must be ${ASSERTION_TYPE}.`);
    }
    const assertion = decodeJws(form.get('client_assertion') ?? '');
    if (assertion === undefined) {
      return oauthError(401, 'invalid_client', 'The client_assertion is missing or not a JWT.');
    }
    const checked = this.checkAssertion(assertion, form.get('client_id'), now);
    if (!checked.ok) {
      return checked.answer;
    }
    const { client } = checked;
    const scopes = (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
    if (scopes.length === 0 || scopes.some((scope) => scope !== LOGS_SCOPE)) {
      return oauthError(400, 'invalid_scope', `The requested scope is invalid, unknown, or malformed; this app may only be granted ${LOGS_SCOPE}.`);
    }
    let jkt: string | undefined;
    if (client.dpop) {
      const proof = this.checkProof(dpopProof, 'POST', this.tokenUrl(), now);
      if (typeof proof === 'string') {
        return oauthError(400, 'invalid_dpop_proof', proof);
      }
      if (!this.nonceValid(proof.payload.nonce, now)) {
        // The assertion's jti is not spent yet: the client may retry with the same assertion.
        return { ...oauthError(400, 'use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.'), headers: { 'dpop-nonce': this.issueNonce(now) } };
      }
      this.spendJti(`dpop:${String(proof.payload.jti)}`, now + 2 * DPOP_PROOF_MAX_AGE_MS);
      jkt = jwkThumbprint(proof.header.jwk as Record<string, unknown>);
    }
    this.spendJti(`assertion:${client.clientId}:${String(assertion.payload.jti)}`, Number(assertion.payload.exp) * 1000);
    const accessToken = randomBytes(48).toString('base64url');
    this.tokens.set(accessToken, { clientId: client.clientId, expiresAt: now + ACCESS_TOKEN_LIFETIME_S * 1000, scopes, ...(jkt === undefined ? {} : { jkt }) });
    return {
      status: 200,
      body: { token_type: jkt === undefined ? 'Bearer' : 'DPoP', expires_in: ACCESS_TOKEN_LIFETIME_S, access_token: accessToken, scope: scopes.join(' ') },
    };
  }

  /** Undefined when the access token (and its DPoP proof) grants reading the System Log; the 401 otherwise. */
  authorize(request: ResourceRequest): ErrorAnswer | undefined {
    const now = this.clock.now();
    const issued = this.tokens.get(request.token);
    if (issued === undefined || issued.expiresAt <= now || !issued.scopes.includes(LOGS_SCOPE)) {
      return oktaError(401, 'E0000011', 'Invalid token provided');
    }
    if (issued.jkt === undefined) {
      return request.scheme === 'Bearer' ? undefined : dpopDenied('a Bearer token was sent with the DPoP scheme');
    }
    if (request.scheme !== 'DPoP') {
      return dpopDenied('this token is DPoP-bound: send Authorization: DPoP <token> with a DPoP proof');
    }
    const proof = this.checkProof(request.dpopProof, request.method, request.uri, now);
    if (typeof proof === 'string') {
      return dpopDenied(proof);
    }
    if (proof.payload.ath !== sha256Base64url(request.token)) {
      return dpopDenied('ath does not match the access token');
    }
    if (jwkThumbprint(proof.header.jwk as Record<string, unknown>) !== issued.jkt) {
      return dpopDenied('the proof is signed by another key than the token is bound to');
    }
    if (proof.payload.nonce !== undefined && !this.nonceValid(proof.payload.nonce, now)) {
      return dpopDenied('the nonce is unknown or expired');
    }
    this.spendJti(`dpop:${String(proof.payload.jti)}`, now + 2 * DPOP_PROOF_MAX_AGE_MS);
    return undefined;
  }

  private checkAssertion(
    assertion: DecodedJws,
    clientIdField: string | null,
    now: number,
  ): { readonly ok: true; readonly client: Client } | { readonly ok: false; readonly answer: TokenAnswer } {
    const { iss, sub, aud, exp, iat, jti } = assertion.payload;
    const client = typeof iss === 'string' ? this.clients.get(iss) : undefined;
    if (client === undefined) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion iss does not name a registered client.') };
    }
    if (sub !== iss || (clientIdField !== null && clientIdField !== iss)) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion sub (and client_id, when sent) must equal iss.') };
    }
    if (!verifyJws(assertion, client.key)) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion signature is invalid.') };
    }
    if (aud !== this.tokenUrl()) {
      return { ok: false, answer: oauthError(401, 'invalid_client', `The client_assertion aud must be ${this.tokenUrl()}.`) };
    }
    if (typeof exp !== 'number' || exp * 1000 <= now) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion token is expired.') };
    }
    if (exp * 1000 - now > MAX_ASSERTION_LIFETIME_MS) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion token has an expiration too far in the future.') };
    }
    if (iat !== undefined && (typeof iat !== 'number' || iat * 1000 > now + DPOP_PROOF_MAX_AGE_MS)) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion iat is in the future.') };
    }
    if (typeof jti !== 'string' || jti === '') {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion must carry a jti.') };
    }
    if (this.usedJtis.has(`assertion:${client.clientId}:${jti}`)) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion token has already been used (jti replayed).') };
    }
    return { ok: true, client };
  }

  /** The verified DPoP proof, or why it is not acceptable. */
  private checkProof(compact: string | undefined, method: string, uri: string, now: number): DecodedJws | string {
    if (compact === undefined || compact === '') {
      return 'The DPoP proof JWT header is missing.';
    }
    const proof = decodeJws(compact);
    if (proof === undefined) {
      return 'The DPoP proof is not a JWT.';
    }
    if (proof.header.typ !== 'dpop+jwt') {
      return 'The DPoP proof typ must be dpop+jwt.';
    }
    const key = publicKeyFromJwk(proof.header.jwk);
    if (key === undefined) {
      return 'The DPoP proof jwk header must be a public RSA or EC key.';
    }
    if (!verifyJws(proof, key)) {
      return 'The DPoP proof signature is invalid.';
    }
    const { htm, htu, iat, jti } = proof.payload;
    if (htm !== method) {
      return `The DPoP proof htm must be ${method}.`;
    }
    if (htu !== uri) {
      return `The DPoP proof htu must be ${uri}.`;
    }
    if (typeof iat !== 'number' || Math.abs(iat * 1000 - now) > DPOP_PROOF_MAX_AGE_MS) {
      return 'The DPoP proof iat is missing or too far from the current time.';
    }
    if (typeof jti !== 'string' || jti === '' || this.usedJtis.has(`dpop:${jti}`)) {
      return 'The DPoP proof jti is missing or was already used.';
    }
    return proof;
  }

  private issueNonce(now: number): string {
    const nonce = randomBytes(16).toString('base64url');
    this.nonces.set(nonce, now + DPOP_NONCE_LIFETIME_MS);
    return nonce;
  }

  private nonceValid(nonce: unknown, now: number): boolean {
    const expiresAt = typeof nonce === 'string' ? this.nonces.get(nonce) : undefined;
    return expiresAt !== undefined && expiresAt > now;
  }

  private spendJti(key: string, rememberUntil: number): void {
    this.usedJtis.set(key, rememberUntil);
  }

  private forgetExpired(now: number): void {
    for (const [jti, until] of this.usedJtis) {
      if (until <= now) {
        this.usedJtis.delete(jti);
      }
    }
    for (const [nonce, until] of this.nonces) {
      if (until <= now) {
        this.nonces.delete(nonce);
      }
    }
    for (const [token, issued] of this.tokens) {
      if (issued.expiresAt <= now) {
        this.tokens.delete(token);
      }
    }
  }
}

function oauthError(status: number, error: string, description: string): TokenAnswer {
  return { status, body: { error, error_description: description } };
}

function dpopDenied(description: string): ErrorAnswer {
  return {
    ...oktaError(401, 'E0000011', 'Invalid token provided', [description]),
    headers: { 'www-authenticate': `DPoP error="invalid_dpop_proof", error_description="${description}"` },
  };
}
