/**
 * The org authorization server's token endpoint (`POST /oauth2/v1/token`) for OAuth 2.0 service
 * apps, and the checks the resource server makes on `Bearer` and `DPoP` access tokens. Follows
 * Okta's service-app guide (https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/):
 * client credentials with `private_key_jwt` only, scope
 * `okta.logs.read`, tokens for 3600 s by the org's clock, and DPoP (RFC 9449) for apps that
 * require it, with the nonce dance at the token endpoint.
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import type { Clock } from '../../lambdas/core/ports';
import { oktaError, type ErrorAnswer } from './errors';
import { sha256Base64url } from '../../lambdas/core/okta/jwt';
import { OKTA_JWS_ALGORITHMS, jwkThumbprint, peekClaims, verifyJws, verifyWithEmbeddedKey, type VerifiedJws } from './jws';

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
  private resourceNonce: string | undefined;

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

  async token(form: URLSearchParams, dpopProof: string | undefined): Promise<TokenAnswer> {
    const now = this.clock.now();
    this.forgetExpired(now);
    if (form.get('grant_type') !== 'client_credentials') {
      return oauthError(
        400,
        'unsupported_grant_type',
        'The authorization grant type is not supported by the authorization server. Configured grant types: [client_credentials].',
      );
    }
    if (form.get('client_assertion_type') !== ASSERTION_TYPE) {
      return oauthError(401, 'invalid_client', `client_assertion_type must be ${ASSERTION_TYPE}.`);
    }
    const checked = await this.checkAssertion(form.get('client_assertion') ?? '', form.get('client_id'), now);
    if (!checked.ok) {
      return checked.answer;
    }
    const { client, assertion } = checked;
    const scopes = (form.get('scope') ?? '').split(' ').filter((scope) => scope !== '');
    if (scopes.length === 0 || scopes.some((scope) => scope !== LOGS_SCOPE)) {
      return oauthError(
        400,
        'invalid_scope',
        `The requested scope is invalid, unknown, or malformed; this app may only be granted ${LOGS_SCOPE}.`,
      );
    }
    let jkt: string | undefined;
    if (client.dpop) {
      const proof = await this.checkProof(dpopProof, 'POST', this.tokenUrl(), now);
      if (typeof proof === 'string') {
        return oauthError(400, 'invalid_dpop_proof', proof);
      }
      if (!this.nonceValid(proof.payload.nonce, now)) {
        // The assertion's jti is not spent yet: the client may retry with the same assertion.
        return {
          ...oauthError(400, 'use_dpop_nonce', 'Authorization server requires nonce in DPoP proof.'),
          headers: { 'dpop-nonce': this.issueNonce(now) },
        };
      }
      this.spendJti(`dpop:${String(proof.payload.jti)}`, now + 2 * DPOP_PROOF_MAX_AGE_MS);
      jkt = await jwkThumbprint(proof.header.jwk);
    }
    if (typeof assertion.payload.jti === 'string') {
      this.spendJti(`assertion:${client.clientId}:${assertion.payload.jti}`, Number(assertion.payload.exp) * 1000);
    }
    const accessToken = randomBytes(48).toString('base64url');
    this.tokens.set(accessToken, {
      clientId: client.clientId,
      expiresAt: now + ACCESS_TOKEN_LIFETIME_S * 1000,
      scopes,
      ...(jkt === undefined ? {} : { jkt }),
    });
    return {
      status: 200,
      body: {
        token_type: jkt === undefined ? 'Bearer' : 'DPoP',
        expires_in: ACCESS_TOKEN_LIFETIME_S,
        access_token: accessToken,
        scope: scopes.join(' '),
      },
    };
  }

  /**
   * From now on the resource server wants a nonce in every DPoP proof (RFC 9449 section 9): a
   * proof without this one is answered 401 `use_dpop_nonce` with it in `DPoP-Nonce`.
   */
  requireResourceNonce(): void {
    this.resourceNonce = this.issueNonce(this.clock.now());
  }

  /**
   * Undefined when the access token (and its DPoP proof) grants reading the System Log; the
   * refusal otherwise: 401 E0000011 for a token Okta does not know, and for a DPoP proof it does
   * not accept what Okta answers, 400 with an empty body and the reason in WWW-Authenticate.
   */
  async authorize(request: ResourceRequest): Promise<ErrorAnswer | undefined> {
    const now = this.clock.now();
    const issued = this.tokens.get(request.token);
    if (issued === undefined || issued.expiresAt <= now || !issued.scopes.includes(LOGS_SCOPE)) {
      return oktaError(401, 'E0000011', 'Invalid token provided');
    }
    if (issued.jkt === undefined) {
      return request.scheme === 'Bearer' ? undefined : oktaError(401, 'E0000011', 'Invalid token provided');
    }
    const proof = await this.checkProof(request.scheme === 'DPoP' ? request.dpopProof : undefined, request.method, request.uri, now);
    if (typeof proof === 'string') {
      return this.dpopRejection(request.uri, proof);
    }
    if (proof.payload.ath !== sha256Base64url(request.token)) {
      return this.dpopRejection(request.uri, "'ath' claim in the DPoP proof JWT is invalid.");
    }
    if ((await jwkThumbprint(proof.header.jwk)) !== issued.jkt) {
      return this.dpopRejection(request.uri, 'The DPoP proof JWT key does not match the access token binding.');
    }
    if (this.resourceNonce !== undefined && proof.payload.nonce !== this.resourceNonce) {
      const demand = this.dpopRejection(request.uri, 'Resource server requires nonce in DPoP proof.', 'use_dpop_nonce', 401);
      return { ...demand, headers: { ...demand.headers, 'dpop-nonce': this.resourceNonce } };
    }
    this.spendJti(`dpop:${String(proof.payload.jti)}`, now + 2 * DPOP_PROOF_MAX_AGE_MS);
    return undefined;
  }

  /** Okta's DPoP refusal at the API: no body, the reason in WWW-Authenticate (okta/okta-sdk-nodejs issue 453). */
  dpopRejection(uri: string, description: string, error = 'invalid_dpop_proof', status = 400): ErrorAnswer {
    return { status, body: undefined, headers: this.challenge(uri, error, description) };
  }

  private challenge(uri: string, error: string, description: string): Record<string, string> {
    const { origin, pathname } = new URL(uri);
    return {
      'www-authenticate':
        `DPoP algs="${OKTA_JWS_ALGORITHMS.join(' ')}", authorization_uri="${origin}/oauth2/v1/authorize", realm="${origin}", ` +
        `scope="${LOGS_SCOPE}", error="${error}", error_description="${description}", resource="${pathname}"`,
    };
  }

  private async checkAssertion(
    compact: string,
    clientIdField: string | null,
    now: number,
  ): Promise<
    { readonly ok: true; readonly client: Client; readonly assertion: VerifiedJws } | { readonly ok: false; readonly answer: TokenAnswer }
  > {
    const claimed = await peekClaims(compact);
    if (claimed === undefined) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion is missing or not a JWT.') };
    }
    const client = typeof claimed.iss === 'string' ? this.clients.get(claimed.iss) : undefined;
    if (client === undefined) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion iss does not name a registered client.') };
    }
    const assertion = await verifyJws(compact, client.key);
    if (assertion === undefined) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion signature is invalid.') };
    }
    const { iss, sub, aud, exp, iat, jti } = assertion.payload;
    if (sub !== iss || (clientIdField !== null && clientIdField !== iss)) {
      return {
        ok: false,
        answer: oauthError(401, 'invalid_client', 'The client_assertion sub (and client_id, when sent) must equal iss.'),
      };
    }
    if (aud !== this.tokenUrl()) {
      return { ok: false, answer: oauthError(401, 'invalid_client', `The client_assertion aud must be ${this.tokenUrl()}.`) };
    }
    if (typeof exp !== 'number' || exp * 1000 <= now) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion token is expired.') };
    }
    if (exp * 1000 - now > MAX_ASSERTION_LIFETIME_MS) {
      return {
        ok: false,
        answer: oauthError(401, 'invalid_client', 'The client_assertion token has an expiration too far in the future.'),
      };
    }
    // iat and jti are optional (RFC 7523 section 3; Okta's service-app guide builds assertions without
    // them); when present they are checked.
    if (iat !== undefined && (typeof iat !== 'number' || iat * 1000 > now + DPOP_PROOF_MAX_AGE_MS)) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion iat is in the future.') };
    }
    if (jti !== undefined && (typeof jti !== 'string' || jti === '')) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion jti must be a non-empty string.') };
    }
    if (typeof jti === 'string' && this.usedJtis.has(`assertion:${client.clientId}:${jti}`)) {
      return { ok: false, answer: oauthError(401, 'invalid_client', 'The client_assertion token has already been used (jti replayed).') };
    }
    return { ok: true, client, assertion };
  }

  /** The verified DPoP proof, or why it is not acceptable (in Okta's words, as public reports quote them). */
  private async checkProof(compact: string | undefined, method: string, uri: string, now: number): Promise<VerifiedJws | string> {
    if (compact === undefined || compact === '') {
      return 'The DPoP proof JWT header is missing.';
    }
    const proof = await verifyWithEmbeddedKey(compact);
    if (proof === undefined) {
      return 'DPoP proof JWT cannot be parsed, or its signature or jwk header is invalid.';
    }
    if (proof.header.typ !== 'dpop+jwt') {
      return "'typ' header in the DPoP proof JWT is invalid.";
    }
    const { htm, htu, iat, jti } = proof.payload;
    if (htm !== method) {
      return "'htm' claim in the DPoP proof JWT is invalid.";
    }
    if (htu !== uri) {
      return "'htu' claim in the DPoP proof JWT is invalid.";
    }
    if (typeof iat !== 'number' || Math.abs(iat * 1000 - now) > DPOP_PROOF_MAX_AGE_MS) {
      return "'iat' claim in the DPoP proof JWT is missing or too far from the current time.";
    }
    if (typeof jti !== 'string' || jti === '') {
      return "'jti' claim in the DPoP proof JWT is missing.";
    }
    if (this.usedJtis.has(`dpop:${jti}`)) {
      return 'The DPoP proof JWT has already been used.';
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
