/**
 * Okta's API answers a refused DPoP proof with HTTP 400, an empty body, and the reason only in
 * `WWW-Authenticate` (RFC 9449 section 7.1). The headers below are real Okta answers as quoted in
 * okta/okta-sdk-nodejs issue 453 ('htu' claim invalid), okta/okta-sdk-golang issue 554 and
 * okta/terraform-provider-okta issue 2392 (proof already used, after a retried request); the empty
 * 400 body is what okta/okta-sdk-dotnet issue 852 and okta/okta-sdk-golang issue 554 report. Only
 * the org name and the resource are ours. The resource-server nonce challenge is RFC 9449 section 9's.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { inspect } from 'node:util';
import { OktaAuthError, OktaBadRequestError, createOktaClient } from '../../lambdas/core/okta';
import { testEvent, testSource } from '../support/fakes';
import { verifyDpopProof } from '../support/jwt-oracle';
import { VirtualClock } from '../support/virtual-clock';
import { startScriptedServer, type ReceivedRequest, type Script, type ScriptedServer } from './scripted-server';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pem = (key: KeyObject) => key.export({ format: 'pem', type: 'pkcs8' }).toString();
const ACCESS_TOKEN = 'dpop-access-token-never-shown';
const SINCE = { since: '2026-01-01T00:00:00.000Z' };

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Okta's DPoP challenge, in the form of the public reports above. */
function oktaDpopChallenge(origin: string, error: string, description: string): string {
  return (
    `DPoP algs="RS256 RS384 RS512 ES256 ES384 ES512", authorization_uri="${origin}/oauth2/v1/authorize", realm="${origin}", ` +
    `scope="okta.logs.read", error="${error}", error_description="${description}", resource="/api/v1/logs"`
  );
}

const dpopRejection = (origin: string, description: string, requestId = 'aQ1bC2dE3fG4hI5jK6lM7nAAAB8'): Script => ({
  status: 400,
  headers: {
    'www-authenticate': oktaDpopChallenge(origin, 'invalid_dpop_proof', description),
    'x-okta-request-id': requestId,
    'content-type': 'text/plain',
  },
  body: '',
});

const isToken = (request: ReceivedRequest) => request.url === '/oauth2/v1/token';
const apiRequests = (org: ScriptedServer) => org.requests.filter((request) => request.url.startsWith('/api/v1/logs'));
const tokenAnswer: Script = {
  body: JSON.stringify({ token_type: 'DPoP', expires_in: 3600, access_token: ACCESS_TOKEN, scope: 'okta.logs.read' }),
};
const logsPage = (origin: string): Script => ({
  headers: { link: `<${origin}/api/v1/logs?since=2026-01-01T00%3A00%3A00.000Z&limit=1000&sortOrder=ASCENDING&after=n>; rel="next"` },
  body: JSON.stringify([testEvent(1)]),
});

async function dpopOrg(answer: (request: ReceivedRequest, apiIndex: number, origin: string) => Script): Promise<ScriptedServer> {
  let apiIndex = 0;
  let origin = '';
  server = await startScriptedServer((request) => (isToken(request) ? tokenAnswer : answer(request, apiIndex++, origin)));
  origin = server.origin;
  return server;
}

function dpopClient(origin: string, clock: VirtualClock) {
  return createOktaClient(
    testSource({ domain: origin, credential: { kind: 'oauth', clientId: '0oa-dpop', privateKeyPem: pem(rsa.privateKey), dpop: true } }),
    {
      clock,
      allowLoopback: true,
      random: () => 0.5,
    },
  );
}

describe('DPoP challenges as real Okta sends them (400, empty body, WWW-Authenticate)', () => {
  it('retries a one-off invalid_dpop_proof once with a fresh proof, and the pull completes (okta/okta-sdk-golang issue 554)', async () => {
    const clock = new VirtualClock();
    const org = await dpopOrg((_request, index, origin) =>
      index === 0 ? dpopRejection(origin, 'The DPoP proof JWT has already been used.') : logsPage(origin),
    );

    const page = await dpopClient(org.origin, clock).fetchPage(SINCE);

    expect(page.events).toHaveLength(1);
    const [first, second] = apiRequests(org);
    expect(apiRequests(org)).toHaveLength(2);
    const url = `${org.origin}${first!.url}`;
    const proofs = await Promise.all(
      [first!, second!].map((request) =>
        verifyDpopProof(String(request.headers.dpop), { htm: 'GET', url, now: clock.now(), accessToken: ACCESS_TOKEN }),
      ),
    );
    expect(proofs[0]!.payload.jti).not.toEqual(proofs[1]!.payload.jti);
    expect(second!.headers.authorization).toBe(`DPoP ${ACCESS_TOKEN}`);
  });

  it('fails a persistent rejection within three requests as an auth failure that names the DPoP error and description (okta/okta-sdk-nodejs issue 453)', async () => {
    const clock = new VirtualClock();
    const org = await dpopOrg((_request, _index, origin) => dpopRejection(origin, "'htu' claim in the DPoP proof JWT is invalid."));

    const error = await dpopClient(org.origin, clock)
      .fetchPage(SINCE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OktaAuthError);
    expect(error).toMatchObject({ kind: 'auth', status: 400, errorCode: 'invalid_dpop_proof' });
    const message = (error as Error).message;
    expect(message).toContain(
      `GET ${org.origin}/api/v1/logs answered 400 invalid_dpop_proof ('htu' claim in the DPoP proof JWT is invalid.)`,
    );
    expect(message).toContain('X-Okta-Request-Id aQ1bC2dE3fG4hI5jK6lM7nAAAB8');
    expect(message).toContain('oauth.dpop');
    expect(org.requests.length).toBeLessThanOrEqual(3);
    expect(apiRequests(org)).toHaveLength(2);
    expect([String(error), inspect(error, { depth: 10 })].join('\n')).not.toContain(ACCESS_TOKEN);
  });

  it('honours a resource-server nonce challenge (RFC 9449 section 9), and keeps sending the nonce', async () => {
    const clock = new VirtualClock();
    const org = await dpopOrg((request, _index, origin) => {
      const nonce = JSON.parse(Buffer.from(String(request.headers.dpop).split('.')[1]!, 'base64url').toString()) as { nonce?: string };
      if (nonce.nonce === 'rs-nonce-1') return logsPage(origin);
      return {
        status: 401,
        headers: {
          'www-authenticate': oktaDpopChallenge(origin, 'use_dpop_nonce', 'Resource server requires nonce in DPoP proof'),
          'dpop-nonce': 'rs-nonce-1',
        },
        body: '',
      };
    });
    const client = dpopClient(org.origin, clock);

    await client.fetchPage(SINCE);
    await client.fetchPage(SINCE);

    const api = apiRequests(org);
    expect(api).toHaveLength(3);
    const url = `${org.origin}/api/v1/logs`;
    await expect(
      verifyDpopProof(String(api[0]!.headers.dpop), { htm: 'GET', url, now: clock.now(), accessToken: ACCESS_TOKEN }),
    ).resolves.toBeDefined();
    for (const request of api.slice(1)) {
      await expect(
        verifyDpopProof(String(request.headers.dpop), {
          htm: 'GET',
          url,
          now: clock.now(),
          accessToken: ACCESS_TOKEN,
          nonce: 'rs-nonce-1',
        }),
      ).resolves.toBeDefined();
    }
  });

  it('removes control characters from, and bounds, the description and request id it quotes', async () => {
    const clock = new VirtualClock();
    // A header may carry tabs and Latin-1 bytes, among them the C1 controls (U+009B is a terminal's CSI).
    const hostile = `forged\t\u009b2J\u0085level=INFO all good ${'x'.repeat(5000)}`;
    const org = await dpopOrg((_request, _index, origin) => dpopRejection(origin, hostile, 'req\u0085id\u009b-1'));

    const error = (await dpopClient(org.origin, clock)
      .fetchPage(SINCE)
      .catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(OktaAuthError);
    expect(error.message).not.toMatch(/\p{Cc}/u);
    expect(error.message).toContain('(forged2Jlevel=INFO all good xxx');
    expect(error.message).toContain('X-Okta-Request-Id reqid-1');
    expect(error.message.length).toBeLessThan(1000);
  });

  it('removes control characters from the errorSummary of an ordinary refusal too (a JSON body may hold any)', async () => {
    const clock = new VirtualClock();
    const org = await dpopOrg(() => ({
      status: 401,
      body: JSON.stringify({ errorCode: 'E0000011', errorSummary: 'Invalid token\r\n{"level":"INFO"}\u001b[2J\u202e', errorId: 'oae\nX' }),
    }));

    const error = (await dpopClient(org.origin, clock)
      .fetchPage(SINCE)
      .catch((e: unknown) => e)) as Error;

    expect(error).toBeInstanceOf(OktaAuthError);
    expect(error.message).toContain('answered 401 E0000011 (Invalid token{"level":"INFO"}[2J) [errorId oaeX]');
  });

  it('does not retry, and says why, when the app requires DPoP but oauth.dpop is off', async () => {
    const clock = new VirtualClock();
    server = await startScriptedServer((request) =>
      isToken(request)
        ? { body: JSON.stringify({ token_type: 'Bearer', expires_in: 3600, access_token: 'bearer-token' }) }
        : dpopRejection(server?.origin ?? '', 'The DPoP proof JWT header is missing.'),
    );
    const client = createOktaClient(
      testSource({
        domain: server.origin,
        credential: { kind: 'oauth', clientId: '0oa', privateKeyPem: pem(rsa.privateKey), dpop: false },
      }),
      {
        clock,
        allowLoopback: true,
      },
    );

    const error = await client.fetchPage(SINCE).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OktaAuthError);
    expect((error as Error).message).toContain(
      'invalid_dpop_proof (The DPoP proof JWT header is missing.) [X-Okta-Request-Id aQ1bC2dE3fG4hI5jK6lM7nAAAB8]: Okta refused the DPoP proof; check that oauth.dpop matches',
    );
    expect(apiRequests(server)).toHaveLength(1);
  });

  it('keeps an ordinary 400 a bad request, not an auth challenge', async () => {
    const clock = new VirtualClock();
    const org = await dpopOrg(() => ({
      status: 400,
      headers: { 'x-okta-request-id': 'ordinary-400' },
      body: JSON.stringify({ errorCode: 'E0000001', errorSummary: 'Api validation failed: since', errorId: 'oaeAbc123' }),
    }));

    const error = await dpopClient(org.origin, clock)
      .fetchPage(SINCE)
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(OktaBadRequestError);
    expect((error as Error).message).toContain(
      'answered 400 E0000001 (Api validation failed: since) [errorId oaeAbc123, X-Okta-Request-Id ordinary-400]',
    );
    expect(apiRequests(org)).toHaveLength(1);
  });
});
