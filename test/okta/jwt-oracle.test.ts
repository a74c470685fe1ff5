/**
 * Every client assertion and DPoP proof our client signs, checked by `jose` (code we did not write)
 * against RFC 7523 section 3 and RFC 9449 section 4.3, for each key type Okta accepts: RSA, and EC
 * on P-256, P-384 and P-521 (ES256/384/512). Then the same client, end to end, against the
 * emulated org, whose verdict on signatures is also jose's.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createOktaClient } from '../../lambdas/core/okta';
import { startOktaOrg } from '../../local/okta-emulator';
import { testEvent, testSource } from '../support/fakes';
import { verifyClientAssertion, verifyDpopProof } from '../support/jwt-oracle';
import { VirtualClock } from '../support/virtual-clock';
import { startScriptedServer, type ReceivedRequest, type Script, type ScriptedServer } from './scripted-server';

const KEYS = {
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  ES512: generateKeyPairSync('ec', { namedCurve: 'P-521' }),
};
const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
const ACCESS_TOKEN = 'access-token-for-ath';

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

const isToken = (request: ReceivedRequest) => request.url === '/oauth2/v1/token';
const proofClaims = (request: ReceivedRequest) =>
  JSON.parse(Buffer.from(String(request.headers.dpop).split('.')[1]!, 'base64url').toString()) as { nonce?: string };

describe.each(Object.keys(KEYS) as (keyof typeof KEYS)[])('our client with a %s key, checked by jose', (alg) => {
  it('signs client assertions per RFC 7523 and DPoP proofs per RFC 9449, nonce included once the server asks', async () => {
    const clock = new VirtualClock();
    server = await startScriptedServer((request): Script => {
      if (isToken(request)) {
        if (proofClaims(request).nonce !== 'as-nonce') {
          return {
            status: 400,
            headers: { 'dpop-nonce': 'as-nonce' },
            body: JSON.stringify({ error: 'use_dpop_nonce', error_description: 'Authorization server requires nonce in DPoP proof.' }),
          };
        }
        return { body: JSON.stringify({ token_type: 'DPoP', expires_in: 3600, access_token: ACCESS_TOKEN }) };
      }
      return { headers: { link: `<${server?.origin}/api/v1/logs?after=x&limit=1000>; rel="next"` }, body: JSON.stringify([testEvent(1)]) };
    });
    const origin = server.origin;
    const tokenUrl = `${origin}/oauth2/v1/token`;
    const client = createOktaClient(
      testSource({
        domain: origin,
        credential: { kind: 'oauth', clientId: '0oa-oracle', privateKeyPem: pem(KEYS[alg].privateKey), keyId: 'k1', dpop: true },
      }),
      { clock, allowLoopback: true },
    );

    await client.fetchPage({ since: '2026-01-01T00:00:00.000Z' });
    await client.fetchPage({ nextUrl: `${origin}/api/v1/logs?after=x&limit=1000#fragment` });

    const tokenRequests = server.requests.filter(isToken);
    const apiRequests = server.requests.filter((request) => !isToken(request));
    expect(tokenRequests).toHaveLength(2);
    expect(apiRequests).toHaveLength(2);
    const now = clock.now();
    const jtis: unknown[] = [];
    for (const [index, request] of tokenRequests.entries()) {
      const form = new URLSearchParams(request.body);
      const assertion = await verifyClientAssertion(form.get('client_assertion') ?? '', KEYS[alg].publicKey, {
        clientId: '0oa-oracle',
        tokenUrl,
        now,
      });
      expect(assertion.protectedHeader).toMatchObject({ alg, kid: 'k1' });
      jtis.push(assertion.payload.jti);
      const proof = await verifyDpopProof(String(request.headers.dpop), {
        htm: 'POST',
        url: tokenUrl,
        now,
        ...(index === 0 ? {} : { nonce: 'as-nonce' }),
      });
      jtis.push(proof.payload.jti);
    }
    for (const request of apiRequests) {
      const proof = await verifyDpopProof(String(request.headers.dpop), {
        htm: 'GET',
        url: `${origin}${request.url}`,
        now,
        accessToken: ACCESS_TOKEN,
      });
      expect(proof.header.jwk).toBeDefined();
      jtis.push(proof.payload.jti);
    }
    expect(new Set(jtis).size).toBe(jtis.length);
  });

  it('reads the emulated org with DPoP end to end', async () => {
    const clock = new VirtualClock();
    const org = await startOktaOrg({ clock });
    try {
      org.registerOAuthClient({ clientId: `0oa-${alg}`, publicKey: KEYS[alg].publicKey, dpop: true });
      org.generate(3);
      const client = createOktaClient(
        testSource({
          domain: org.origin,
          credential: { kind: 'oauth', clientId: `0oa-${alg}`, privateKeyPem: pem(KEYS[alg].privateKey), dpop: true },
        }),
        { clock, allowLoopback: true },
      );

      const page = await client.fetchPage({ since: new Date(clock.now() - 3_600_000).toISOString() });

      expect(page.events).toHaveLength(3);
      expect(org.requests.map((request) => [request.path, request.status, request.authScheme])).toEqual([
        ['/oauth2/v1/token', 400, 'none'],
        ['/oauth2/v1/token', 200, 'none'],
        ['/api/v1/logs', 200, 'DPoP'],
      ]);
    } finally {
      await org.close();
    }
  });
});
