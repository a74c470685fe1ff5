import { createHash, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { VirtualClock } from '../support/virtual-clock';

const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

type Alg = 'RS256' | 'ES256' | 'ES384' | 'ES512';

const HASH: Record<string, string> = { RS256: 'sha256', ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };
const CURVE: Record<string, string> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };

/** Compact JWS, signed with node:crypto (as a client would). */
function jws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  const alg = String(header.alg);
  const signature = alg.startsWith('ES')
    ? sign(HASH[alg] ?? 'sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
    : sign(HASH[alg] ?? 'sha256', Buffer.from(input), key);
  return `${input}.${signature.toString('base64url')}`;
}

function keyPair(alg: Alg): { publicKey: KeyObject; privateKey: KeyObject } {
  return alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: CURVE[alg] ?? 'P-256' });
}

interface TokenResponse {
  status: number;
  body: Record<string, unknown>;
  headers: Headers;
}

async function requestToken(org: EmulatedOrg, assertion: string, options: { dpop?: string; scope?: string } = {}): Promise<TokenResponse> {
  const response = await fetch(org.tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(options.dpop === undefined ? {} : { dpop: options.dpop }) },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      scope: options.scope ?? 'okta.logs.read',
      client_assertion_type: ASSERTION_TYPE,
      client_assertion: assertion,
    }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, unknown>, headers: response.headers };
}

describe('okta emulator: OAuth 2.0 service apps (private_key_jwt)', () => {
  let clock: VirtualClock;
  let org: EmulatedOrg;
  const keys = { RS256: keyPair('RS256'), ES256: keyPair('ES256'), ES384: keyPair('ES384'), ES512: keyPair('ES512') };
  const CLIENT_OF: Record<Alg, string> = { RS256: 'app-rs', ES256: 'app-es', ES384: 'app-es384', ES512: 'app-es512' };

  beforeEach(async () => {
    clock = new VirtualClock();
    org = await startOktaOrg({ clock });
    org.registerOAuthClient({ clientId: 'app-rs', publicKey: keys.RS256.publicKey });
    org.registerOAuthClient({ clientId: 'app-es', publicKey: keys.ES256.publicKey.export({ type: 'spki', format: 'pem' }).toString() });
    org.registerOAuthClient({ clientId: 'app-es384', publicKey: keys.ES384.publicKey });
    org.registerOAuthClient({ clientId: 'app-es512', publicKey: keys.ES512.publicKey });
  });

  afterEach(async () => {
    await org.close();
  });

  function assertion(alg: Alg, overrides: Record<string, unknown> = {}, key = keys[alg].privateKey): string {
    const clientId = CLIENT_OF[alg];
    const now = Math.floor(clock.now() / 1000);
    return jws(
      { alg, typ: 'JWT', kid: 'key-1' },
      { iss: clientId, sub: clientId, aud: org.tokenUrl, iat: now, exp: now + 300, jti: randomUUID(), ...overrides },
      key,
    );
  }

  async function logs(authorization: string, dpop?: string): Promise<Response> {
    return fetch(`${org.origin}/api/v1/logs`, { headers: { authorization, ...(dpop === undefined ? {} : { dpop }) } });
  }

  it.each(['RS256', 'ES256', 'ES384', 'ES512'] as const)(
    'issues a Bearer token for a valid %s assertion, good for an hour of the org clock',
    async (alg) => {
      const answer = await requestToken(org, assertion(alg));
      expect(answer.status).toBe(200);
      expect(answer.body).toMatchObject({
        token_type: 'Bearer',
        expires_in: 3600,
        scope: 'okta.logs.read',
        access_token: expect.any(String),
      });
      const token = answer.body.access_token as string;

      expect((await logs(`Bearer ${token}`)).status).toBe(200);
      clock.advance(3599_000);
      expect((await logs(`Bearer ${token}`)).status).toBe(200);
      clock.advance(1000);
      const expired = await logs(`Bearer ${token}`);
      expect(expired.status).toBe(401);
      expect(await expired.json()).toMatchObject({ errorCode: 'E0000011' });
    },
  );

  it.each([
    ['a signature by another key', (): string => assertion('RS256', {}, keyPair('RS256').privateKey)],
    ['a wrong aud', (): string => assertion('RS256', { aud: 'https://other.okta.com/oauth2/v1/token' })],
    ['an expired exp', (): string => assertion('RS256', { exp: Math.floor(clock.now() / 1000) - 1 })],
    ['an exp more than 1 h ahead', (): string => assertion('RS256', { exp: Math.floor(clock.now() / 1000) + 3601 })],
    ['sub other than iss', (): string => assertion('RS256', { sub: 'someone-else' })],
    ['an unknown client', (): string => assertion('RS256', { iss: 'nobody', sub: 'nobody' })],
    ['an empty jti', (): string => assertion('RS256', { jti: '' })],
    [
      'an ES384 assertion signed by a P-256 key',
      (): string =>
        jws(
          { alg: 'ES384' },
          JSON.parse(Buffer.from(assertion('ES384').split('.')[1], 'base64url').toString()) as Record<string, unknown>,
          keys.ES256.privateKey,
        ),
    ],
    [
      'an ES256 header on an RSA key',
      (): string =>
        jws(
          { alg: 'ES256' },
          JSON.parse(Buffer.from(assertion('RS256').split('.')[1], 'base64url').toString()) as Record<string, unknown>,
          keys.ES256.privateKey,
        ),
    ],
    [
      'alg none',
      (): string =>
        `${assertion('RS256')
          .split('.')
          .slice(0, 2)
          .join('.')
          .replace(/^[^.]+/, Buffer.from('{"alg":"none"}').toString('base64url'))}.`,
    ],
  ])('refuses an assertion with %s (401 invalid_client)', async (_name, make) => {
    const answer = await requestToken(org, make());
    expect(answer.status).toBe(401);
    expect(answer.body).toMatchObject({ error: 'invalid_client', error_description: expect.any(String) });
  });

  it("accepts an assertion without jti and iat, as Okta's service-app guide builds it (both are optional in RFC 7523)", async () => {
    const answer = await requestToken(org, assertion('RS256', { jti: undefined, iat: undefined }));
    expect(answer.status).toBe(200);
    expect(answer.body).toMatchObject({ token_type: 'Bearer' });
  });

  it('refuses a replayed jti', async () => {
    const once = assertion('ES256');
    expect((await requestToken(org, once)).status).toBe(200);
    const replay = await requestToken(org, once);
    expect(replay.status).toBe(401);
    expect(replay.body).toMatchObject({ error: 'invalid_client', error_description: expect.stringContaining('jti') });
  });

  it('refuses a scope other than okta.logs.read', async () => {
    const answer = await requestToken(org, assertion('RS256'), { scope: 'okta.users.manage' });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_scope' });
  });

  it('invalidates issued tokens on revokeAccessTokens', async () => {
    const token = (await requestToken(org, assertion('RS256'))).body.access_token as string;
    org.revokeAccessTokens();
    expect((await logs(`Bearer ${token}`)).status).toBe(401);
  });

  it('records no assertion, token or form body', async () => {
    const made = assertion('RS256');
    const token = (await requestToken(org, made)).body.access_token as string;
    await logs(`Bearer ${token}`);
    const recorded = JSON.stringify(org.requests);
    expect(recorded).not.toContain(token);
    expect(recorded).not.toContain(made.split('.')[2]);
    expect(org.requests.map((request) => [request.method, request.path, request.status, request.authScheme])).toEqual([
      ['POST', '/oauth2/v1/token', 200, 'none'],
      ['GET', '/api/v1/logs', 200, 'Bearer'],
    ]);
  });
});

describe('okta emulator: DPoP', () => {
  let clock: VirtualClock;
  let org: EmulatedOrg;
  const appKey = keyPair('RS256');
  const dpopKey = keyPair('ES256');
  const jwk = dpopKey.publicKey.export({ format: 'jwk' });

  beforeEach(async () => {
    clock = new VirtualClock();
    org = await startOktaOrg({ clock });
    org.registerOAuthClient({ clientId: 'app-dpop', publicKey: appKey.publicKey, dpop: true });
  });

  afterEach(async () => {
    await org.close();
  });

  function assertion(): string {
    const now = Math.floor(clock.now() / 1000);
    return jws(
      { alg: 'RS256' },
      { iss: 'app-dpop', sub: 'app-dpop', aud: org.tokenUrl, exp: now + 300, jti: randomUUID() },
      appKey.privateKey,
    );
  }

  function proof(claims: Record<string, unknown>, key = dpopKey.privateKey, publicJwk: object = jwk): string {
    return jws(
      { typ: 'dpop+jwt', alg: 'ES256', jwk: publicJwk },
      { iat: Math.floor(clock.now() / 1000), jti: randomUUID(), ...claims },
      key,
    );
  }

  async function dpopToken(): Promise<string> {
    const made = assertion();
    const first = await requestToken(org, made, { dpop: proof({ htm: 'POST', htu: org.tokenUrl }) });
    const nonce = first.headers.get('dpop-nonce') as string;
    const second = await requestToken(org, made, { dpop: proof({ htm: 'POST', htu: org.tokenUrl, nonce }) });
    expect(second.status).toBe(200);
    return second.body.access_token as string;
  }

  const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

  it('asks for a nonce first, then issues a DPoP token for a proof carrying it', async () => {
    const made = assertion();
    const first = await requestToken(org, made, { dpop: proof({ htm: 'POST', htu: org.tokenUrl }) });
    expect(first.status).toBe(400);
    expect(first.body).toMatchObject({ error: 'use_dpop_nonce' });
    const nonce = first.headers.get('dpop-nonce');
    expect(nonce).toEqual(expect.any(String));

    const second = await requestToken(org, made, { dpop: proof({ htm: 'POST', htu: org.tokenUrl, nonce }) });
    expect(second.status).toBe(200);
    expect(second.body).toMatchObject({ token_type: 'DPoP', expires_in: 3600 });
  });

  it('refuses a token request without a DPoP proof', async () => {
    const answer = await requestToken(org, assertion());
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: 'invalid_dpop_proof' });
  });

  it('accepts API calls with Authorization: DPoP and a proof carrying ath, and refuses every shortcut', async () => {
    const token = await dpopToken();
    const uri = `${org.origin}/api/v1/logs`;
    const call = (authorization: string, dpop?: string): Promise<Response> =>
      fetch(`${uri}?limit=10`, { headers: { authorization, ...(dpop === undefined ? {} : { dpop }) } });

    expect((await call(`DPoP ${token}`, proof({ htm: 'GET', htu: uri, ath: ath(token) }))).status).toBe(200);

    const other = keyPair('ES256');
    const refused = [
      await call(`Bearer ${token}`),
      await call(`DPoP ${token}`),
      await call(`DPoP ${token}`, proof({ htm: 'GET', htu: uri })),
      await call(`DPoP ${token}`, proof({ htm: 'GET', htu: uri, ath: ath('another-token') })),
      await call(`DPoP ${token}`, proof({ htm: 'POST', htu: uri, ath: ath(token) })),
      await call(`DPoP ${token}`, proof({ htm: 'GET', htu: `${uri}?limit=10`, ath: ath(token) })),
      await call(
        `DPoP ${token}`,
        proof({ htm: 'GET', htu: uri, ath: ath(token) }, other.privateKey, other.publicKey.export({ format: 'jwk' })),
      ),
      await call(`DPoP ${token}`, proof({ htm: 'GET', htu: uri, ath: ath(token), iat: Math.floor(clock.now() / 1000) - 600 })),
    ];
    // Okta refuses a proof with 400, an empty body and the reason in WWW-Authenticate (okta/okta-sdk-nodejs issue 453).
    expect(refused.map((response) => response.status)).toEqual([400, 400, 400, 400, 400, 400, 400, 400]);
    for (const response of refused) {
      expect(await response.text()).toBe('');
      expect(response.headers.get('www-authenticate')).toMatch(
        /^DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="[^"]+", realm="[^"]+", scope="okta.logs.read", error="invalid_dpop_proof", error_description="[^"]+", resource="\/api\/v1\/logs"$/,
      );
    }
    expect(refused[5].headers.get('www-authenticate')).toContain(`error_description="'htu' claim in the DPoP proof JWT is invalid."`);
  });

  it('demands the resource-server nonce once asked to, with 401 use_dpop_nonce and the nonce in DPoP-Nonce (RFC 9449 section 9)', async () => {
    const token = await dpopToken();
    const uri = `${org.origin}/api/v1/logs`;
    org.requireResourceNonce();
    const first = await fetch(uri, { headers: { authorization: `DPoP ${token}`, dpop: proof({ htm: 'GET', htu: uri, ath: ath(token) }) } });
    expect(first.status).toBe(401);
    expect(first.headers.get('www-authenticate')).toContain('error="use_dpop_nonce"');
    const nonce = first.headers.get('dpop-nonce') as string;
    expect(nonce).toEqual(expect.any(String));
    const second = await fetch(uri, {
      headers: { authorization: `DPoP ${token}`, dpop: proof({ htm: 'GET', htu: uri, ath: ath(token), nonce }) },
    });
    expect(second.status).toBe(200);
  });

  it('refuses a replayed DPoP proof', async () => {
    const token = await dpopToken();
    const uri = `${org.origin}/api/v1/logs`;
    const once = proof({ htm: 'GET', htu: uri, ath: ath(token) });
    expect((await fetch(uri, { headers: { authorization: `DPoP ${token}`, dpop: once } })).status).toBe(200);
    const replay = await fetch(uri, { headers: { authorization: `DPoP ${token}`, dpop: once } });
    expect(replay.status).toBe(400);
    expect(replay.headers.get('www-authenticate')).toContain('error_description="The DPoP proof JWT has already been used."');
  });
});
