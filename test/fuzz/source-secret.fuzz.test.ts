/**
 * Fuzzing the secret parser: whoever can write a source's secret controls its whole text. Whatever
 * it holds, the parser either returns a configuration the Okta client can use safely or throws the
 * one documented error, and never repeats a credential (API token, private key, a password in the
 * domain) in that error.
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { InvalidSourceConfigError, OKTA_ORG_HOST_SUFFIXES, parseSourceSecret } from '../../lambdas/core/sources/parse-source-secret';

/** Runs per property: the mutations below combine freely, a few hundred cover each kind many times. */
const RUNS = 300;
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
/** The lines of the key's body: none of them may ever appear in a message. */
const pemBodyLines = rsaPem.split('\n').filter((line) => line.length > 20 && !line.startsWith('-----'));

/** Tokens carry a marker so that a leak is recognisable whatever else the message says. */
const token = fc.stringMatching(/^[A-Za-z0-9_-]{6,50}$/).map((body) => `SeCrEt${body}`);
const password = fc.stringMatching(/^[A-Za-z0-9]{4,12}$/).map((body) => `PaSs${body}`);
const host = fc.oneof(
  fc.constantFrom(...OKTA_ORG_HOST_SUFFIXES).map((suffix) => `acme.${suffix}`),
  fc.constantFrom(
    'okta.com',
    'acme.okta.com.attacker.example',
    'attacker.example',
    'acme-okta.com',
    '127.0.0.1',
    'localhost',
    '[::1]',
    '169.254.169.254',
    'ACME.OKTA.COM',
    'acme.okta.com.',
  ),
  fc.domain(),
);
const domain = fc.oneof(
  fc
    .record({
      scheme: fc.constantFrom('https', 'http', 'ftp', 'HTTPS'),
      host,
      port: fc.constantFrom('', ':443', ':8443', ':0'),
      tail: fc.constantFrom('', '/', '/api', '?x=1', '#f', ' '),
    })
    .map((d) => `${d.scheme}://${d.host}${d.port}${d.tail}`),
  fc.tuple(password, host).map(([secret, h]) => `https://admin:${secret}@${h}`),
  fc.string({ maxLength: 40 }),
  fc.jsonValue({ maxDepth: 1 }),
);

type Json = ReturnType<typeof JSON.parse>;
type Mutation = (secret: Record<string, Json>) => void;

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constantFrom('domain', 'apiToken', 'oauth', 'label', 'dropOffMinutes', 'backfillHours', 'enabled', 'allowCustomDomain').map(
    (key): Mutation =>
      (s) =>
        void delete s[key],
  ),
  fc
    .tuple(
      fc.constantFrom('domain', 'apiToken', 'label', 'dropOffMinutes', 'backfillHours', 'enabled', 'allowCustomDomain', 'oauth'),
      fc.jsonValue({ maxDepth: 2 }),
    )
    .map(
      ([key, value]): Mutation =>
        (s) =>
          void (s[key] = value),
    ),
  domain.map(
    (value): Mutation =>
      (s) =>
        void (s.domain = value),
  ),
  fc.tuple(token, fc.constantFrom('', ' ', '\n', '\t', ' x', '\u0000')).map(
    ([value, junk]): Mutation =>
      (s) =>
        void (s.apiToken = `${value}${junk}`),
  ),
  fc
    .tuple(token, fc.boolean(), fc.constantFrom('pem', 'flattened', 'garbage', 'number'))
    .map(([clientId, dpop, keyForm]): Mutation => (s) => {
      delete s.apiToken;
      const key =
        keyForm === 'pem'
          ? rsaPem
          : keyForm === 'flattened'
            ? rsaPem.trim().split('\n').join('\\n')
            : keyForm === 'garbage'
              ? `-----BEGIN PRIVATE KEY-----\n${clientId}\n-----END PRIVATE KEY-----`
              : 42;
      s.oauth = { clientId, privateKeyPem: key, dpop };
    }),
  fc.tuple(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })).map(
    ([key, value]): Mutation =>
      (s) =>
        void (s[key] = value),
  ),
  fc.integer({ min: -5, max: 200_000 }).map(
    (minutes): Mutation =>
      (s) =>
        void (s.dropOffMinutes = minutes),
  ),
  fc.boolean().map(
    (value): Mutation =>
      (s) =>
        void (s.allowCustomDomain = value),
  ),
);

const sourceId = fc.oneof(fc.constantFrom('acme', 'a', 'prod-okta-1'), fc.string({ maxLength: 70 }));

/** Every credential string placed in the secret (tokens, client assertion keys, URL passwords). */
function credentialsIn(secretText: string): string[] {
  const found = new Set<string>(pemBodyLines);
  for (const match of secretText.matchAll(/SeCrEt[A-Za-z0-9_-]+|PaSs[A-Za-z0-9]+/g)) found.add(match[0]);
  return [...found];
}

describe('parseSourceSecret under arbitrary secrets', () => {
  it('returns a safe configuration or throws InvalidSourceConfigError, never quoting a credential', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        sourceId,
        fc.array(mutation, { maxLength: 4 }),
        token,
        fc.boolean(),
        fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.string({ maxLength: 60 }) }),
        (id, mutations, apiToken, allowLoopback, rawText) => {
          const secret: Record<string, Json> = { domain: 'https://acme.okta.com', apiToken, label: 'Acme', dropOffMinutes: 60 };
          for (const mutate of mutations) mutate(secret);
          const text = rawText ?? JSON.stringify(secret);
          let config;
          try {
            config = parseSourceSecret(id, text, { allowLoopback });
          } catch (error) {
            expect(error).toBeInstanceOf(InvalidSourceConfigError);
            const message = (error as Error).message;
            expect(message.length).toBeGreaterThan(0);
            for (const credential of credentialsIn(text)) expect(message).not.toContain(credential);
            expect((error as Error).cause).toBeUndefined();
            refused += 1;
            return;
          }
          // Accepted: the domain is an origin the Okta client will agree to send the credential to.
          const url = new URL(config.domain);
          expect(url.origin).toBe(config.domain);
          expect(url.username + url.password).toBe('');
          expect(config.id).toMatch(/^[a-z0-9][a-z0-9-]{0,62}$/);
          const loopback = ['127.0.0.1', 'localhost'].includes(url.hostname);
          if (loopback) {
            expect(allowLoopback).toBe(true);
          } else {
            expect(url.protocol).toBe('https:');
            const oktaHost = OKTA_ORG_HOST_SUFFIXES.some((suffix) => url.hostname.endsWith(`.${suffix}`));
            expect(oktaHost || config.allowCustomDomain).toBe(true);
          }
          if (config.credential.kind === 'apiToken') expect(config.credential.token).toMatch(/^\S+$/);
          expect(Number.isInteger(config.dropOffMinutes) && config.dropOffMinutes >= 1).toBe(true);
          accepted += 1;
        },
      ),
      { numRuns: RUNS },
    );
    // Both verdicts must be common, or one half of the property is never exercised.
    expect(accepted).toBeGreaterThan(RUNS / 10);
    expect(refused).toBeGreaterThan(RUNS / 10);
  });
});
