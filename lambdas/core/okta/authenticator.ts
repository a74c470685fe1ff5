import { generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { SourceConfig } from '../ports';
import { OktaAuthError, OktaBadRequestError, OktaConfigError, OktaPermissionError } from './errors';
import type { HttpRequest, HttpResponse } from './http-exchange';
import { describeSigningKeyProblem, loadSigningKey, sha256Base64url, signJwt, type JwsAlgorithm } from './jwt';
import { parseJsonObject } from '../json';
import { RateLimitGate, describeUrl, type CallContext, type Interpretation, type OrgTransport } from './transport';
import type { DpopChallenge } from './www-authenticate';

/** Signs the headers of one API request; made ready (token fetched) per call. */
export type RequestSigner = (method: 'GET', url: string) => Record<string, string>;

/** How the client proves who it is to the org: an API token, or an OAuth service app. */
export interface Authenticator {
  /** Gets whatever the next API request needs (an access token) and returns its signer. */
  prepare(context: CallContext): Promise<RequestSigner>;
  /** Sees every API response (a DPoP server may send a new nonce with any of them). */
  observe(response: HttpResponse): void;
  /**
   * After a 401 from the API, or a 400 with a DPoP `challenge`: sets up a different credential (or
   * the nonce for the next proof) and says whether one retry may help.
   */
  recoverFromUnauthorized(response: HttpResponse, challenge: DpopChallenge | undefined): boolean;
  /** What the operator should do about a final 401. */
  readonly unauthorizedAdvice: string;
  /** Every credential this authenticator holds, to be removed from any text shown. */
  secrets(): string[];
}

export function createAuthenticator(source: SourceConfig, transport: OrgTransport): Authenticator {
  const credential = source.credential;
  if (credential.kind === 'apiToken') return new ApiTokenAuthenticator(credential.token);
  return new OAuthAuthenticator(credential, transport);
}

class ApiTokenAuthenticator implements Authenticator {
  readonly unauthorizedAdvice =
    "the API token (apiToken) is invalid, revoked or expired; create a new token in Okta and put it in the source's secret";

  constructor(private readonly token: string) {}

  async prepare(): Promise<RequestSigner> {
    return () => ({ authorization: `SSWS ${this.token}` });
  }

  observe(): void {}

  recoverFromUnauthorized(): boolean {
    return false;
  }

  secrets(): string[] {
    return [this.token];
  }
}

interface AccessToken {
  readonly value: string;
  readonly scheme: 'Bearer' | 'DPoP';
  /** Epoch ms (the client's clock) at which Okta stops accepting it. */
  readonly expiresAt: number;
}

/** Okta documents 3,600 s for service-app access tokens; used when a response omits `expires_in`. */
const DOCUMENTED_TOKEN_LIFETIME_SECONDS = 3600;
const SCOPE = 'okta.logs.read';
const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
/** OAuth error codes are short words (`invalid_client`); a longer one is cut after redaction. */
const MAX_OAUTH_ERROR_LENGTH = 60;

type TokenAnswer = { readonly token: AccessToken } | { readonly nonce: string };

/**
 * OAuth 2.0 client credentials with `private_key_jwt` (the only method Okta allows for service
 * apps), and DPoP when the app requires it. The access token is cached until shortly before it
 * expires, by the client's clock.
 */
class OAuthAuthenticator implements Authenticator {
  readonly unauthorizedAdvice =
    "the OAuth service app's access token was refused; check that the app (oauth.clientId) is active, is granted the okta.logs.read scope, and that its registered public key matches oauth.privateKeyPem";
  private readonly key: KeyObject;
  private readonly alg: JwsAlgorithm;
  private readonly tokenUrl: string;
  private readonly dpop: DpopProver | undefined;
  private readonly tokenGate = new RateLimitGate(0);
  private token: AccessToken | undefined;
  private pending: Promise<AccessToken> | undefined;
  private tokenNonce: string | undefined;
  private apiNonce: string | undefined;
  private lastAssertion: string | undefined;

  constructor(
    private readonly credential: {
      readonly clientId: string;
      readonly privateKeyPem: string;
      readonly keyId?: string;
      readonly dpop: boolean;
    },
    private readonly transport: OrgTransport,
  ) {
    const loaded = loadSigningKey(credential.privateKeyPem);
    if (loaded.problem !== undefined)
      throw new OktaConfigError(transport.sourceId, `oauth.privateKeyPem ${describeSigningKeyProblem(loaded.problem)}`);
    this.key = loaded.key;
    this.alg = loaded.alg;
    this.tokenUrl = `${transport.origin}/oauth2/v1/token`;
    this.dpop = credential.dpop ? new DpopProver() : undefined;
  }

  async prepare(context: CallContext): Promise<RequestSigner> {
    const token = await this.currentToken(context);
    if (token.scheme === 'DPoP' && this.dpop) {
      const dpop = this.dpop;
      return (method, url) => ({
        authorization: `DPoP ${token.value}`,
        dpop: dpop.proof(method, url, this.transport.clock.now(), { accessToken: token.value, nonce: this.apiNonce }),
      });
    }
    return () => ({ authorization: `Bearer ${token.value}` });
  }

  observe(response: HttpResponse): void {
    const nonce = response.headers.get('dpop-nonce');
    if (this.dpop && nonce) this.apiNonce = nonce;
  }

  recoverFromUnauthorized(response: HttpResponse, challenge: DpopChallenge | undefined): boolean {
    if (challenge !== undefined) {
      // Without DPoP there is no proof to make afresh: the app requires DPoP and oauth.dpop is off.
      if (!this.dpop) return false;
      // RFC 9449 section 9: retry with the resource server's nonce. Section 7.1, a refused proof: the
      // next one is made afresh anyway (new jti and iat), which cures a one-off rejection (a proof
      // Okta saw as replayed, okta/okta-sdk-golang issue 554) and nothing else.
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) this.apiNonce = nonce;
      return challenge.error === 'invalid_dpop_proof' || Boolean(nonce);
    }
    // The cached token may have been revoked or expired early: one fresh token is worth a try.
    this.token = undefined;
    return true;
  }

  secrets(): string[] {
    // The signed client assertion is a credential too until it expires: a token endpoint that
    // echoes the request must not get it into a log.
    const secrets = [this.credential.privateKeyPem];
    if (this.token) secrets.push(this.token.value);
    if (this.lastAssertion) secrets.push(this.lastAssertion);
    return secrets;
  }

  private async currentToken(context: CallContext): Promise<AccessToken> {
    const cached = this.token;
    if (cached && this.transport.clock.now() < cached.expiresAt - this.transport.limits.tokenRefreshMarginMs) return cached;
    // Concurrent callers share one token request instead of each asking for their own.
    this.pending ??= this.fetchToken(context).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  private async fetchToken(context: CallContext): Promise<AccessToken> {
    // A DPoP app first answers `use_dpop_nonce`; one retry with that nonce is the protocol, a
    // second demand means something else is wrong.
    for (let attempt = 1; ; attempt++) {
      const answer = await this.transport.send(
        () => this.tokenRequest(),
        (response) => this.interpretToken(response, attempt),
        context,
        this.tokenGate,
      );
      if ('token' in answer) {
        this.token = answer.token;
        return answer.token;
      }
      this.tokenNonce = answer.nonce;
    }
  }

  private tokenRequest(): HttpRequest {
    const now = Math.floor(this.transport.clock.now() / 1000);
    const { clientId, keyId } = this.credential;
    const assertion = signJwt(
      keyId === undefined ? { typ: 'JWT' } : { typ: 'JWT', kid: keyId },
      {
        iss: clientId,
        sub: clientId,
        aud: this.tokenUrl,
        iat: now,
        exp: now + this.transport.limits.clientAssertionLifetimeSeconds,
        jti: randomUUID(),
      },
      this.key,
      this.alg,
    );
    this.lastAssertion = assertion;
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      scope: SCOPE,
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    });
    const headers: Record<string, string> = { ...this.transport.baseHeaders(), 'content-type': 'application/x-www-form-urlencoded' };
    if (this.dpop) headers.dpop = this.dpop.proof('POST', this.tokenUrl, this.transport.clock.now(), { nonce: this.tokenNonce });
    return { method: 'POST', url: this.tokenUrl, headers, body: body.toString() };
  }

  private interpretToken(response: HttpResponse, attempt: number): Interpretation<TokenAnswer> {
    const sourceId = this.transport.sourceId;
    const body = parseJsonObject(response.body);
    if (response.status === 200) {
      const value = body?.access_token;
      if (typeof value !== 'string' || value === '')
        return { retry: `POST ${describeUrl(this.tokenUrl)}: the token response has no access_token (truncated?)` };
      const lifetime = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DOCUMENTED_TOKEN_LIFETIME_SECONDS;
      const scheme = typeof body?.token_type === 'string' && body.token_type.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer';
      return { value: { token: { value, scheme, expiresAt: this.transport.clock.now() + lifetime * 1000 } } };
    }
    const error = typeof body?.error === 'string' ? body.error : undefined;
    const nonce = response.headers.get('dpop-nonce');
    if (this.dpop && error === 'use_dpop_nonce' && nonce && attempt === 1) return { value: { nonce } };
    // `error` is compared as sent; what is shown of it, and of the description, is made safe first.
    const shownError = error === undefined || error === '' ? '' : ` ${this.transport.redact(error, MAX_OAUTH_ERROR_LENGTH)}`;
    const description = typeof body?.error_description === 'string' ? `: ${this.transport.redact(body.error_description)}` : '';
    const answer = `POST ${describeUrl(this.tokenUrl)} answered ${response.status}${shownError}${description}${this.transport.supportDetails(response)}`;
    const details = { status: response.status };
    if (error === 'invalid_scope' || response.status === 403) {
      throw new OktaPermissionError(sourceId, `${answer}; grant the service app the ${SCOPE} scope`, details);
    }
    if (
      response.status === 401 ||
      error === 'invalid_client' ||
      error === 'unauthorized_client' ||
      error === 'invalid_grant' ||
      error === 'invalid_dpop_proof' ||
      error === 'use_dpop_nonce'
    ) {
      throw new OktaAuthError(
        sourceId,
        `${answer}; Okta refused the OAuth service app: check oauth.clientId, that its public key matches oauth.privateKeyPem (and oauth.keyId), and oauth.dpop against the app's "Require DPoP" setting`,
        details,
      );
    }
    throw new OktaBadRequestError(sourceId, answer, details);
  }
}

/** Signs DPoP proofs (RFC 9449) with an ephemeral P-256 key made for this client. */
class DpopProver {
  private readonly privateKey: KeyObject;
  private readonly jwk: JsonWebKey;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    this.privateKey = privateKey;
    const { kty, crv, x, y } = publicKey.export({ format: 'jwk' });
    this.jwk = { kty, crv, x, y };
  }

  proof(method: 'GET' | 'POST', url: string, now: number, extra: { accessToken?: string; nonce?: string | undefined }): string {
    const target = new URL(url);
    const claims: Record<string, unknown> = {
      htm: method,
      htu: `${target.origin}${target.pathname}`,
      iat: Math.floor(now / 1000),
      jti: randomUUID(),
    };
    if (extra.nonce !== undefined) claims.nonce = extra.nonce;
    if (extra.accessToken !== undefined) claims.ath = sha256Base64url(extra.accessToken);
    return signJwt({ typ: 'dpop+jwt', jwk: this.jwk }, claims, this.privateKey, 'ES256');
  }
}
