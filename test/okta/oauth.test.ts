import { createHash, createPublicKey, generateKeyPairSync, verify, type JsonWebKey, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { OktaAuthError, OktaConfigError, createOktaClient } from '../../lambdas/core/okta';
import type { OktaCredential } from '../../lambdas/core/ports';
import { testEvent, testSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';
import { startScriptedServer, type ReceivedRequest, type Script, type ScriptedServer } from './scripted-server';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();

interface Jwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
  signingInput: string;
  signature: Buffer;
}

function decodeJwt(token: string): Jwt {
  const [header, claims, signature] = token.split('.') as [string, string, string];
  return {
    header: JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString('utf8')) as Record<string, unknown>,
    signingInput: `${header}.${claims}`,
    signature: Buffer.from(signature, 'base64url'),
  };
}

function verifies(jwt: Jwt, key: KeyObject): boolean {
  const data = Buffer.from(jwt.signingInput);
  return jwt.header.alg === 'RS256'
    ? verify('sha256', data, key, jwt.signature)
    : verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, jwt.signature);
}

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const logsPage = () => ({ headers: { link: `<${server?.origin}/api/v1/logs?after=n>; rel="next"` }, body: JSON.stringify([testEvent(1)]) });
const tokenAnswer = (token: string, type = 'Bearer'): Script => ({
  body: JSON.stringify({ token_type: type, expires_in: 3600, access_token: token, scope: 'okta.logs.read' }),
});

async function orgWith(answer: (request: ReceivedRequest, index: number) => Script) {
  server = await startScriptedServer(answer);
  return server;
}

function oauthClient(origin: string, clock: VirtualClock, credential: Partial<Extract<OktaCredential, { kind: 'oauth' }>> = {}) {
  return createOktaClient(
    testSource({
      domain: origin,
      credential: { kind: 'oauth', clientId: '0oa-client', privateKeyPem: pem(rsa.privateKey), dpop: false, ...credential },
    }),
    { clock, allowLoopback: true, random: () => 0.5 },
  );
}

const tokenRequests = (org: ScriptedServer) => org.requests.filter((request) => request.url === '/oauth2/v1/token');
const apiRequests = (org: ScriptedServer) => org.requests.filter((request) => request.url.startsWith('/api/v1/logs'));
const form = (request: ReceivedRequest) => Object.fromEntries(new URLSearchParams(request.body));

describe('OAuth service app (private_key_jwt)', () => {
  it('fetches one access token with an RS256 client assertion and reuses it for every page', async () => {
    const clock = new VirtualClock();
    const org = await orgWith((request) => (request.url === '/oauth2/v1/token' ? tokenAnswer('access-1') : logsPage()));
    const client = oauthClient(org.origin, clock, { keyId: 'kid-1' });

    for (let i = 0; i < 3; i++) await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(tokenRequests(org)).toHaveLength(1);
    const token = tokenRequests(org)[0]!;
    expect(token.method).toBe('POST');
    expect(token.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const fields = form(token);
    expect(fields).toMatchObject({
      grant_type: 'client_credentials',
      scope: 'okta.logs.read',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    });
    const assertion = decodeJwt(fields.client_assertion!);
    expect(assertion.header).toEqual({ typ: 'JWT', kid: 'kid-1', alg: 'RS256' });
    const now = clock.now() / 1000;
    expect(assertion.claims).toEqual({
      iss: '0oa-client',
      sub: '0oa-client',
      aud: `${org.origin}/oauth2/v1/token`,
      iat: now,
      exp: now + 300,
      jti: expect.any(String),
    });
    expect(verifies(assertion, rsa.publicKey)).toBe(true);
    expect(apiRequests(org).map((request) => request.headers.authorization)).toEqual([
      'Bearer access-1',
      'Bearer access-1',
      'Bearer access-1',
    ]);
  });

  it('renews the token only shortly before it expires, by the injected clock', async () => {
    const clock = new VirtualClock();
    let issued = 0;
    const org = await orgWith((request) => (request.url === '/oauth2/v1/token' ? tokenAnswer(`access-${++issued}`) : logsPage()));
    const client = oauthClient(org.origin, clock);

    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    clock.advance(3_600_000 - 60_000 - 1);
    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    clock.advance(1);
    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(tokenRequests(org)).toHaveLength(2);
    expect(apiRequests(org).map((request) => request.headers.authorization)).toEqual([
      'Bearer access-1',
      'Bearer access-1',
      'Bearer access-2',
    ]);
    const jtis = tokenRequests(org).map((request) => decodeJwt(form(request).client_assertion!).claims.jti);
    expect(new Set(jtis).size).toBe(2);
  });

  it('signs with ES256 when the key is EC P-256', async () => {
    const clock = new VirtualClock();
    const org = await orgWith((request) => (request.url === '/oauth2/v1/token' ? tokenAnswer('access-1') : logsPage()));

    await oauthClient(org.origin, clock, { privateKeyPem: pem(ec.privateKey) }).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    const assertion = decodeJwt(form(tokenRequests(org)[0]!).client_assertion!);
    expect(assertion.header.alg).toBe('ES256');
    expect(verifies(assertion, ec.publicKey)).toBe(true);
  });

  it('answers a 401 from the API with one fresh token, and a second 401 with OktaAuthError', async () => {
    const clock = new VirtualClock();
    let issued = 0;
    const org = await orgWith((request) =>
      request.url === '/oauth2/v1/token'
        ? tokenAnswer(`access-secret-${++issued}`)
        : { status: 401, body: JSON.stringify({ errorCode: 'E0000011', errorSummary: 'Invalid token provided' }) },
    );

    const error = await oauthClient(org.origin, clock)
      .fetchPage({ since: '2026-01-01T00:00:00.000Z' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OktaAuthError);
    expect(tokenRequests(org)).toHaveLength(2);
    expect(apiRequests(org)).toHaveLength(2);
    const shown = [String(error), (error as Error).stack, inspect(error, { depth: 10 })].join('\n');
    expect(shown).not.toMatch(/access-secret|BEGIN PRIVATE KEY/);
  });

  it('reports a refused client as OktaAuthError without retrying, redacting what Okta says', async () => {
    const clock = new VirtualClock();
    const privateKeyPem = pem(rsa.privateKey);
    const org = await orgWith(() => ({
      status: 401,
      body: JSON.stringify({ error: 'invalid_client', error_description: `The client_assertion signature is invalid. ${privateKeyPem}` }),
    }));

    const error = await oauthClient(org.origin, clock, { privateKeyPem })
      .fetchPage({ since: '2026-01-01T00:00:00.000Z' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OktaAuthError);
    expect((error as Error).message).toContain('answered 401 invalid_client: The client_assertion signature is invalid. [redacted]');
    expect((error as Error).message).toContain('oauth.clientId');
    expect(org.requests).toHaveLength(1);
  });

  it('refuses a key it cannot use when the client is made', () => {
    const create = () => oauthClient('http://127.0.0.1:1', new VirtualClock(), { privateKeyPem: 'not a key' });
    expect(create).toThrow(OktaConfigError);
    expect(create).toThrow('oauth.privateKeyPem is not an unencrypted PEM private key');
  });

  it.each([
    [
      'a 1024-bit RSA key',
      generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey,
      'oauth.privateKeyPem is a 1024-bit RSA key; Okta requires at least 2048 bits',
    ],
    [
      'an EC key on secp256k1',
      generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey,
      'oauth.privateKeyPem is an EC key on curve secp256k1; Okta accepts P-256, P-384 and P-521',
    ],
    [
      'an Ed25519 key',
      generateKeyPairSync('ed25519').privateKey,
      "oauth.privateKeyPem is a ed25519 key; Okta's private_key_jwt needs an RSA or EC (P-256/P-384/P-521) key",
    ],
  ])('refuses %s as the secret parser does, even in a SourceConfig built by other code', (_name, key, message) => {
    const create = () => oauthClient('http://127.0.0.1:1', new VirtualClock(), { privateKeyPem: pem(key) });
    expect(create).toThrow(OktaConfigError);
    expect(create).toThrow(message);
  });
});

describe('DPoP', () => {
  function proofOf(request: ReceivedRequest): Jwt {
    const header = request.headers.dpop;
    if (typeof header !== 'string') throw new Error(`no DPoP header on ${request.method} ${request.url}`);
    return decodeJwt(header);
  }

  function checkProof(proof: Jwt, expected: Record<string, unknown>, clock: VirtualClock): void {
    expect(proof.header).toMatchObject({ typ: 'dpop+jwt', alg: 'ES256', jwk: { kty: 'EC', crv: 'P-256' } });
    expect(proof.header.jwk).not.toHaveProperty('d');
    expect(verifies(proof, createPublicKey({ key: proof.header.jwk as JsonWebKey, format: 'jwk' }))).toBe(true);
    expect(proof.claims).toEqual({ iat: clock.now() / 1000, jti: expect.any(String), ...expected });
  }

  it('retries the token call with the server nonce, then signs API calls with ath', async () => {
    const clock = new VirtualClock();
    const org = await orgWith((request): Script => {
      if (request.url === '/oauth2/v1/token') {
        const proof = proofOf(request);
        if (proof.claims.nonce !== 'nonce-1') {
          return {
            status: 400,
            headers: { 'dpop-nonce': 'nonce-1' },
            body: JSON.stringify({ error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof.' }),
          };
        }
        return tokenAnswer('dpop-access', 'DPoP');
      }
      return logsPage();
    });
    const client = oauthClient(org.origin, clock, { dpop: true });

    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    await client.fetchPage({ nextUrl: `${org.origin}/api/v1/logs?after=n` });

    const [first, second] = tokenRequests(org);
    checkProof(proofOf(first!), { htm: 'POST', htu: `${org.origin}/oauth2/v1/token` }, clock);
    checkProof(proofOf(second!), { htm: 'POST', htu: `${org.origin}/oauth2/v1/token`, nonce: 'nonce-1' }, clock);
    const api = apiRequests(org);
    expect(api.map((request) => request.headers.authorization)).toEqual(['DPoP dpop-access', 'DPoP dpop-access']);
    const ath = createHash('sha256').update('dpop-access').digest('base64url');
    for (const request of api) checkProof(proofOf(request), { htm: 'GET', htu: `${org.origin}/api/v1/logs`, ath }, clock);
    const jtis = [...tokenRequests(org), ...api].map((request) => proofOf(request).claims.jti);
    expect(new Set(jtis).size).toBe(4);
    expect(proofOf(first!).header.jwk).toEqual(proofOf(api[0]!).header.jwk);
  });

  it('answers a resource-server nonce challenge once, with the nonce in the next proof', async () => {
    const clock = new VirtualClock();
    const org = await orgWith((request): Script => {
      if (request.url === '/oauth2/v1/token') return tokenAnswer('dpop-access', 'DPoP');
      if (proofOf(request).claims.nonce === 'api-nonce') return logsPage();
      return {
        status: 401,
        headers: {
          'www-authenticate': 'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
          'dpop-nonce': 'api-nonce',
        },
        body: '',
      };
    });

    const result = await oauthClient(org.origin, clock, { dpop: true }).fetchPage({ since: '2026-01-01T00:00:00.000Z' });

    expect(result.events).toHaveLength(1);
    expect(tokenRequests(org)).toHaveLength(1);
    expect(apiRequests(org)).toHaveLength(2);
  });

  it('does not loop when the token endpoint keeps asking for a nonce', async () => {
    const clock = new VirtualClock();
    const org = await orgWith(() => ({
      status: 400,
      headers: { 'dpop-nonce': `n-${Math.random()}` },
      body: JSON.stringify({ error: 'use_dpop_nonce' }),
    }));

    const error = await oauthClient(org.origin, clock, { dpop: true })
      .fetchPage({ since: '2026-01-01T00:00:00.000Z' })
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OktaAuthError);
    expect(org.requests).toHaveLength(2);
  });
});
