import { createServer } from 'node:http';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { listenOnLoopback, type LoopbackServer } from '../../local/aws/listen';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { MANY_RUNS_TEST_TIMEOUT_MS, PREFIX, startSourcesHarness, type SourcesHarness } from './cli-harness';

jest.setTimeout(MANY_RUNS_TEST_TIMEOUT_MS);
let harness: SourcesHarness;
let org: EmulatedOrg;
/** Answers like a web site that is not an Okta org: HTML and 404 for every path. */
let notOkta: LoopbackServer;
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privateKeyPem = rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
/** The base64 body of the PEM: what would leak if a key were ever printed, whatever the line breaks. */
const privateKeyBody = privateKeyPem.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));

beforeAll(async () => {
  harness = await startSourcesHarness();
  org = await startOktaOrg({ seed: 9 });
  org.generate(5);
  notOkta = await listenOnLoopback(
    createServer((_request, response) => {
      response.writeHead(404, { 'content-type': 'text/html' });
      response.end('<html><body>Not found</body></html>');
    }),
  );
});

afterAll(async () => {
  const transcript = harness.transcript.join('\n');
  expect(transcript).not.toContain(org.apiToken);
  expect(transcript).not.toContain('wrong-token-00aBcD');
  for (const line of privateKeyBody) expect(transcript).not.toContain(line);
  await Promise.all([org.close(), notOkta.close()]);
  await harness.close();
});

async function secretExists(sourceId: string): Promise<boolean> {
  try {
    await harness.secrets.send(new GetSecretValueCommand({ SecretId: `${PREFIX}${sourceId}` }));
    return true;
  } catch (error) {
    if (error instanceof Error && error.name === 'ResourceNotFoundException') return false;
    throw error;
  }
}

/** One line on stderr, nothing on stdout: the contract of every failure. */
function expectOneLineFailure(result: { code: number; stdout: string; stderr: string }, code: 1 | 2): void {
  expect(result.code).toBe(code);
  expect(result.stdout).toBe('');
  expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
}

test('add refuses a token Okta answers 401 to, and a revoked one, saving nothing and printing neither', async () => {
  // Act
  const wrong = await harness.run(['add', 'wrong-token', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN'], {
    OKTA_API_TOKEN: 'wrong-token-00aBcD',
  });
  org.revokeToken();
  const revoked = await harness.run(['add', 'revoked', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN'], {
    OKTA_API_TOKEN: org.apiToken,
  });
  org.restoreToken();

  // Assess
  for (const result of [wrong, revoked]) {
    expectOneLineFailure(result, 1);
    expect(result.stderr).toMatch(
      /^okta-log-pipeline sources add: connection test failed, nothing was saved: source [a-z-]+: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs answered 401 E0000011/,
    );
    expect(result.stderr).toContain('API token (apiToken) is invalid, revoked or expired');
  }
  expect(await secretExists('wrong-token')).toBe(false);
  expect(await secretExists('revoked')).toBe(false);
});

test('add refuses a domain that is not an Okta org, before or after asking it', async () => {
  // Act
  const [foreignHost, plainHttp, notAnOrg, loopbackNotAllowed] = await Promise.all([
    harness.run(['add', 'foreign', '--domain', 'https://logs.example.com', '--token-env', 'T'], { T: org.apiToken }),
    harness.run(['add', 'plain', '--domain', 'http://acme.okta.com', '--token-env', 'T'], { T: org.apiToken }),
    harness.run(['add', 'website', '--domain', notOkta.endpoint, '--token-env', 'T'], { T: org.apiToken }),
    harness.run(['add', 'loopback', '--domain', org.origin, '--token-env', 'T'], { T: org.apiToken, OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '' }),
  ]);

  // Assess: what can be judged from the value is a usage error; what Okta (or not-Okta) answered is a failure
  expectOneLineFailure(foreignHost, 2);
  expect(foreignHost.stderr).toContain('source foreign: --domain (domain) host logs.example.com is not an Okta org host');
  expect(foreignHost.stderr).toContain('for a custom URL domain pass --custom-domain');
  expectOneLineFailure(plainHttp, 2);
  expect(plainHttp.stderr).toContain('--domain (domain) must use https');
  expectOneLineFailure(notAnOrg, 1);
  expect(notAnOrg.stderr).toMatch(
    /connection test failed, nothing was saved: source website: GET http:\/\/127\.0\.0\.1:\d+\/api\/v1\/logs answered 404: no System Log API at this origin/,
  );
  expectOneLineFailure(loopbackNotAllowed, 2);
  expect(loopbackNotAllowed.stderr).toContain('OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1');
  for (const id of ['foreign', 'plain', 'website', 'loopback']) expect(await secretExists(id)).toBe(false);
});

test('a second add of the same ID is refused; --update replaces the secret', async () => {
  // Prepare
  const env = { OKTA_API_TOKEN: org.apiToken };
  expect(await harness.run(['add', 'dup', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN', '--label', 'First'], env)).toMatchObject(
    { code: 0 },
  );
  const probesBefore = org.requests.length;

  // Act
  const duplicate = await harness.run(['add', 'dup', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN', '--label', 'Second'], env);
  const update = await harness.run(
    ['add', 'dup', '--domain', org.origin, '--token-env', 'OKTA_API_TOKEN', '--label', 'Second', '--update'],
    env,
  );

  // Assess: the refusal asks Okta nothing and changes nothing; the update tests the credential again
  expectOneLineFailure(duplicate, 1);
  expect(duplicate.stderr).toContain(`source dup already exists (secret ${PREFIX}dup); nothing was changed. Use --update`);
  expect(update).toMatchObject({ code: 0, stderr: '' });
  expect(update.stdout).toContain('updated source dup ("Second"');
  expect(org.requests.length - probesBefore).toBe(1);
  const { SecretString } = await harness.secrets.send(new GetSecretValueCommand({ SecretId: `${PREFIX}dup` }));
  expect(JSON.parse(SecretString ?? '{}')).toMatchObject({ label: 'Second' });
});

test('add with an OAuth service app (private_key_jwt, DPoP) tests it against the org and lists it as oauth+dpop', async () => {
  // Prepare
  org.registerOAuthClient({ clientId: '0oa-log-reader', publicKey: rsa.publicKey, dpop: true });
  const file = join(harness.dir, 'oauth.json');
  writeFileSync(file, JSON.stringify({ clientId: '0oa-log-reader', privateKeyPem, dpop: true }));
  const wrongClientFile = join(harness.dir, 'wrong-client.json');
  writeFileSync(wrongClientFile, JSON.stringify({ clientId: '0oa-unknown', privateKeyPem, dpop: true }));

  // Act
  const added = await harness.run(['add', 'oauth-org', '--domain', org.origin, '--oauth-file', file]);
  const refused = await harness.run(['add', 'oauth-wrong', '--domain', org.origin, '--oauth-file', wrongClientFile]);
  const listed = await harness.run(['list', '--json']);

  // Assess
  expect(added).toMatchObject({ code: 0, stderr: '' });
  expect(added.stdout).toContain('added source oauth-org ("oauth-org", ' + org.origin + ', oauth+dpop)');
  expect(
    org.requests.filter((request) => request.path === '/api/v1/logs' && request.authScheme === 'DPoP').map((request) => request.status),
  ).toContain(200);
  expectOneLineFailure(refused, 1);
  expect(refused.stderr).toContain('connection test failed, nothing was saved: source oauth-wrong:');
  expect(await secretExists('oauth-wrong')).toBe(false);
  expect((JSON.parse(listed.stdout) as { sources: unknown[] }).sources).toContainEqual(
    expect.objectContaining({ id: 'oauth-org', auth: 'oauth+dpop' }),
  );
});

test('usage errors exit 2 with one line naming the flag, before any AWS or Okta call', async () => {
  // Prepare
  const pemOnly = join(harness.dir, 'key.pem');
  writeFileSync(pemOnly, privateKeyPem);
  const callsBefore = harness.secretsManager.calls.length;
  const requestsBefore = org.requests.length;

  // Act
  const results = await Promise.all([
    harness.run(['add', 'acme', '--token-env', 'T'], { T: 'x' }),
    harness.run(['add', 'acme', '--domain', org.origin, '--token-env', 'T', '--oauth-file', pemOnly], { T: 'x' }),
    harness.run(['add', 'acme', '--domain', org.origin, '--token-env', 'UNSET_VARIABLE']),
    harness.run(['add', 'Acme_Prod', '--domain', org.origin, '--token-env', 'T'], { T: 'x' }),
    harness.run(['add', 'acme', '--domain', org.origin, '--oauth-file', pemOnly]),
    harness.run(['add', 'acme', '--domain', org.origin, '--token-env', 'T', '--drop-off-minutes', '0'], { T: 'x' }),
    harness.run(['add', 'acme', '--domain', org.origin, '--token-env', 'T', '--dropoff-minutes', '5'], { T: 'x' }),
    harness.run(['status', 'acme']),
    harness.run(['frobnicate']),
  ]);

  // Assess
  for (const result of results) expectOneLineFailure(result, 2);
  const [noDomain, bothCredentials, unsetVariable, badId, pemNotJson, dropOffZero, typo, noTable, unknown] = results.map(
    (result) => result.stderr,
  );
  expect(noDomain).toContain('--domain URL is required');
  expect(bothCredentials).toContain('give exactly one of --token-env VAR');
  expect(unsetVariable).toContain('the environment variable UNSET_VARIABLE is not set or empty');
  expect(badId).toContain('source ID "Acme_Prod" must match');
  expect(pemNotJson).toContain(`--oauth-file ${pemOnly}: this is a PEM key alone; it must be JSON`);
  expect(dropOffZero).toContain('--drop-off-minutes (dropOffMinutes) must be a whole number from 1 to 129600, got 0');
  expect(typo).toContain('unknown option "--dropoff-minutes"');
  expect(noTable).toContain('the cursor table is not known: pass --table NAME or set OKTA_LOG_PIPELINE_CURSOR_TABLE');
  expect(unknown).toContain('unknown subcommand "frobnicate"');
  expect(harness.secretsManager.calls.length).toBe(callsBefore);
  expect(org.requests.length).toBe(requestsBefore);
});

test('list shows an invalid secret with the field that is wrong, and never a credential', async () => {
  // Prepare: a secret written by hand with a misspelt field
  await harness.secrets.send(
    new CreateSecretCommand({
      Name: `${PREFIX}hand-made`,
      SecretString: JSON.stringify({ domain: 'https://hand.okta.com', apiToken: org.apiToken, dropoffMinutes: 5 }),
    }),
  );

  // Act
  const [table, json] = await Promise.all([harness.run(['list']), harness.run(['list', '--json'])]);

  // Assess
  expect(table.code).toBe(0);
  expect(table.stdout).toContain('invalid: source hand-made: invalid secret: "dropoffMinutes" is not a known field');
  expect((JSON.parse(json.stdout) as { invalid: unknown[] }).invalid).toContainEqual({
    sourceId: 'hand-made',
    message: expect.stringContaining('"dropoffMinutes" is not a known field'),
  });
});
