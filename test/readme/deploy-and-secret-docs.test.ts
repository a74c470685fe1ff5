/**
 * What the README tells an operator to type into cdk.json and Secrets Manager is what the code
 * accepts: the context options table equals `lib/config.ts`, and the secret examples of the
 * README and docs/ONBOARDING.md parse with the puller's own `parseSourceSecret`.
 */
import { generateKeyPairSync } from 'node:crypto';
import { CONTEXT_DEFAULTS, CONTEXT_KEYS } from '../../lib/config';
import { parseSourceSecret } from '../../lambdas/core/sources/parse-source-secret';
import { inlineCode, readDoc, tableRows } from './markdown';

const readme = readDoc('README.md');
const onboarding = readDoc('docs/ONBOARDING.md');

test('the README context options table lists exactly CONTEXT_KEYS, with the defaults of CONTEXT_DEFAULTS', () => {
  // Prepare
  const rows = tableRows(readme, 'option').map(([option = '', defaultValue = '']) => ({
    key: option.replace(/`/g, ''),
    default: defaultValue.replace(/`/g, ''),
  }));
  const defaults: Readonly<Record<string, unknown>> = CONTEXT_DEFAULTS;

  // Assess
  expect(rows.map((row) => row.key)).toEqual([...CONTEXT_KEYS]);
  expect(rows.map((row) => `${row.key}=${row.default}`)).toEqual(
    CONTEXT_KEYS.map((key) => `${key}=${key in defaults ? String(defaults[key]) : 'none'}`),
  );
});

/** The example's placeholders made real: `...` in a PEM is where the key goes. */
function withRealKey(secretJson: string, privateKeyPem: string): string {
  return secretJson.replace(/"-----BEGIN PRIVATE KEY-----[^"]*"/g, JSON.stringify(privateKeyPem));
}

const rsaKeyPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

describe.each([readme, onboarding].map((doc) => [doc.path, doc] as const))('the source secret examples of %s', (_path, doc) => {
  const apiTokenExamples = doc.blocks.filter((block) => block.lang === 'json' && block.text.includes('"apiToken"'));
  const oauthVariants = inlineCode(doc).filter((span) => span.startsWith('"oauth":'));

  it('show one API-token secret and one OAuth variant', () => {
    expect({ apiToken: apiTokenExamples.length, oauth: oauthVariants.length }).toEqual({ apiToken: 1, oauth: 1 });
  });

  it('the API-token secret parses with every field as shown', () => {
    const example = JSON.parse(apiTokenExamples[0]!.text) as Record<string, unknown>;

    const config = parseSourceSecret('acme', apiTokenExamples[0]!.text);

    expect(config).toMatchObject({
      id: 'acme',
      domain: example.domain,
      label: example.label,
      dropOffMinutes: example.dropOffMinutes,
      backfillHours: example.backfillHours,
      enabled: example.enabled,
      credential: { kind: 'apiToken', token: example.apiToken },
    });
  });

  it('the OAuth variant, put "instead of apiToken", parses as a service app', () => {
    // Prepare: the doc says the oauth member replaces apiToken in the secret above.
    const secret = JSON.parse(apiTokenExamples[0]!.text) as Record<string, unknown>;
    delete secret.apiToken;
    const oauth = (JSON.parse(withRealKey(`{${oauthVariants[0]!}}`, rsaKeyPem)) as { oauth: Record<string, unknown> }).oauth;

    // Act
    const config = parseSourceSecret('acme', JSON.stringify({ ...secret, oauth }));

    // Assess
    expect(config.credential).toMatchObject({ kind: 'oauth', clientId: oauth.clientId, keyId: oauth.keyId, dpop: oauth.dpop });
  });
});

test('the source id rule the README states is the one the parser applies', () => {
  const rule = /must match `\^([^`]+)\$`/.exec(readme.prose)?.[1];
  expect(rule).toBeDefined();
  const pattern = new RegExp(`^${rule}$`);
  const secret = JSON.stringify({ domain: 'https://acme.okta.com', apiToken: '00a-token' });
  for (const id of ['acme', 'a', 'acme-prod-2', 'Acme', '-acme', 'acme_prod', 'a'.repeat(63), 'a'.repeat(64)]) {
    let parsed = true;
    try {
      parseSourceSecret(id, secret);
    } catch {
      parsed = false;
    }
    expect(`${id}: ${parsed}`).toBe(`${id}: ${pattern.test(id)}`);
  }
});
