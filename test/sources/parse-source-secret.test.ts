import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { InvalidSourceConfigError, parseSourceSecret } from '../../lambdas/core/sources/parse-source-secret';
import { sourceIdFromSecretName } from '../../lambdas/core/sources/source-id';

const TOKEN = '00aSECRETtokenVALUE0123456789abcdefghijkl';
const rsaPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const rsa1024Pem = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ecPem = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const secp256k1Pem = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const ed25519Pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const publicPem = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }).toString();

function secret(fields: Record<string, unknown>): string {
  return JSON.stringify(fields);
}

/** Parses, expecting failure, and returns the error so the test can look at its message and fields. */
function failure(sourceId: string, text: string, options?: { allowLoopback?: boolean }): InvalidSourceConfigError {
  try {
    parseSourceSecret(sourceId, text, options);
  } catch (error) {
    if (error instanceof InvalidSourceConfigError) return error;
    throw error;
  }
  throw new Error('expected InvalidSourceConfigError, but the secret was accepted');
}

describe('parseSourceSecret', () => {
  it('fills every default for a minimal API-token secret', () => {
    const config = parseSourceSecret('acme', secret({ domain: 'https://acme.okta.com', apiToken: TOKEN }));

    expect(config).toEqual({
      id: 'acme',
      domain: 'https://acme.okta.com',
      label: 'acme',
      dropOffMinutes: 60,
      backfillHours: 24,
      enabled: true,
      allowCustomDomain: false,
      credential: { kind: 'apiToken', token: TOKEN },
    });
  });

  it('keeps every field given', () => {
    const config = parseSourceSecret(
      'acme-prod',
      secret({
        domain: 'https://acme.oktapreview.com/',
        apiToken: ` ${TOKEN}\n`,
        label: 'Acme logs',
        dropOffMinutes: 15,
        backfillHours: 0,
        enabled: false,
      }),
    );

    expect(config).toMatchObject({
      domain: 'https://acme.oktapreview.com',
      label: 'Acme logs',
      dropOffMinutes: 15,
      backfillHours: 0,
      enabled: false,
    });
    expect(config.credential).toEqual({ kind: 'apiToken', token: TOKEN });
  });

  it.each(['okta.com', 'oktapreview.com', 'okta-emea.com', 'okta-gov.com', 'okta.mil'])('accepts an org on *.%s', (suffix) => {
    expect(parseSourceSecret('a', secret({ domain: `https://org.${suffix}`, apiToken: TOKEN })).domain).toBe(`https://org.${suffix}`);
  });

  it('accepts an OAuth service app with an RSA or EC key, keyId and dpop', () => {
    const rsa = parseSourceSecret(
      'a',
      secret({ domain: 'https://a.okta.com', oauth: { clientId: '0oa1', privateKeyPem: rsaPem, keyId: 'kid-1', dpop: true } }),
    );
    const ec = parseSourceSecret('a', secret({ domain: 'https://a.okta.com', oauth: { clientId: '0oa1', privateKeyPem: ecPem } }));

    expect(rsa.credential).toEqual({ kind: 'oauth', clientId: '0oa1', privateKeyPem: rsaPem.trim(), keyId: 'kid-1', dpop: true });
    expect(ec.credential).toEqual({ kind: 'oauth', clientId: '0oa1', privateKeyPem: ecPem.trim(), dpop: false });
  });

  it('repairs a PEM whose line breaks were pasted as literal \\n', () => {
    const flattened = rsaPem.trim().split('\n').join('\\n');

    const config = parseSourceSecret('a', secret({ domain: 'https://a.okta.com', oauth: { clientId: '0oa1', privateKeyPem: flattened } }));

    expect(config.credential).toMatchObject({ kind: 'oauth', privateKeyPem: rsaPem.trim() });
  });

  describe('domain', () => {
    it.each([
      ['missing', undefined, /domain is missing/],
      ['not a string', 42, /domain must be a string, got a number/],
      ['not a URL', 'acme.okta.com', /domain is not a URL/],
      ['http', 'http://acme.okta.com', /domain must use https \(host acme\.okta\.com, got http:\)/],
      ['a path', 'https://acme.okta.com/api/v1/logs', /domain must be an origin only/],
      ['a query', 'https://acme.okta.com?x=1', /domain must be an origin only/],
      ['not Okta', 'https://logs.example.com', /host logs\.example\.com is not an Okta org host .*"allowCustomDomain": true/],
      ['a look-alike', 'https://evil-okta.com', /host evil-okta\.com is not an Okta org host/],
      ['a bare suffix', 'https://okta.com', /host okta\.com is not an Okta org host/],
    ])('rejects %s', (_case, domain, message) => {
      const error = failure('acme', secret({ domain, apiToken: TOKEN }));

      expect(error.fields).toEqual(['domain']);
      expect(error.message).toMatch(/^source acme: invalid secret: /);
      expect(error.message).toMatch(message);
    });

    it('never quotes a password or path given in the domain', () => {
      const withPassword = failure('acme', secret({ domain: 'https://admin:hunter2@acme.okta.com', apiToken: TOKEN }));
      const withPath = failure('acme', secret({ domain: `https://acme.okta.com/${TOKEN}`, apiToken: TOKEN }));

      expect(withPassword.message).toMatch(/must not contain a user name or password/);
      expect(withPassword.message).not.toContain('hunter2');
      expect(withPath.message).not.toContain(TOKEN);
    });

    it('accepts a custom URL domain only when the source opts in, and still only over https', () => {
      expect(parseSourceSecret('a', secret({ domain: 'https://sso.acme.com', apiToken: TOKEN, allowCustomDomain: true }))).toMatchObject({
        domain: 'https://sso.acme.com',
        allowCustomDomain: true,
      });
      expect(failure('a', secret({ domain: 'http://sso.acme.com', apiToken: TOKEN, allowCustomDomain: true })).message).toMatch(
        /must use https/,
      );
    });

    it.each(['http://127.0.0.1:8080', 'http://localhost:9000'])('accepts loopback %s only when allowed', (domain) => {
      expect(parseSourceSecret('a', secret({ domain, apiToken: TOKEN }), { allowLoopback: true }).domain).toBe(domain);
      expect(failure('a', secret({ domain, apiToken: TOKEN })).message).toMatch(/loopback address .*OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1/);
      expect(failure('a', secret({ domain, apiToken: TOKEN, allowCustomDomain: true })).fields).toEqual(['domain']);
    });
  });

  describe('credential', () => {
    it('needs exactly one of apiToken and oauth', () => {
      expect(failure('a', secret({ domain: 'https://a.okta.com' })).message).toMatch(
        /apiToken is missing; give either apiToken .* or oauth/,
      );
      expect(
        failure('a', secret({ domain: 'https://a.okta.com', apiToken: TOKEN, oauth: { clientId: 'x', privateKeyPem: rsaPem } })).message,
      ).toMatch(/apiToken and oauth are both set/);
    });

    it.each([
      ['empty', '  ', /apiToken must not be empty/],
      ['a number', 123, /apiToken must be a string, got a number/],
      ['broken by a space', '00abc def', /apiToken must not contain spaces/],
    ])('rejects an apiToken that is %s', (_case, apiToken, message) => {
      expect(failure('a', secret({ domain: 'https://a.okta.com', apiToken })).message).toMatch(message);
    });

    it.each([
      ['not an object', 'x', 'oauth', /oauth must be an object/],
      ['without clientId', { privateKeyPem: rsaPem }, 'oauth.clientId', /oauth\.clientId is missing/],
      ['without a key', { clientId: 'c' }, 'oauth.privateKeyPem', /oauth\.privateKeyPem is missing/],
      [
        'with garbage for a key',
        { clientId: 'c', privateKeyPem: 'not a key' },
        'oauth.privateKeyPem',
        /not an unencrypted PEM private key/,
      ],
      ['with a public key', { clientId: 'c', privateKeyPem: publicPem }, 'oauth.privateKeyPem', /not an unencrypted PEM private key/],
      [
        'with a 1024-bit RSA key',
        { clientId: 'c', privateKeyPem: rsa1024Pem },
        'oauth.privateKeyPem',
        /1024-bit RSA key; Okta requires at least 2048/,
      ],
      ['with a secp256k1 key', { clientId: 'c', privateKeyPem: secp256k1Pem }, 'oauth.privateKeyPem', /EC key on curve secp256k1/],
      ['with an Ed25519 key', { clientId: 'c', privateKeyPem: ed25519Pem }, 'oauth.privateKeyPem', /ed25519 key/],
      ['with dpop not a boolean', { clientId: 'c', privateKeyPem: rsaPem, dpop: 'yes' }, 'oauth.dpop', /oauth\.dpop must be true or false/],
      ['with an empty keyId', { clientId: 'c', privateKeyPem: rsaPem, keyId: '' }, 'oauth.keyId', /oauth\.keyId must not be empty/],
      [
        'with an unknown key',
        { clientId: 'c', privateKeyPem: rsaPem, clientSecret: 'zzz' },
        'oauth."clientSecret"',
        /"clientSecret" is not a known field/,
      ],
    ])('rejects oauth %s', (_case, oauth, field, message) => {
      const error = failure('a', secret({ domain: 'https://a.okta.com', oauth }));

      expect(error.fields).toEqual([field]);
      expect(error.message).toMatch(message);
    });
  });

  describe('options', () => {
    it.each([
      ['dropOffMinutes', 0, /dropOffMinutes must be a whole number from 1 to 129600, got 0/],
      ['dropOffMinutes', 1.5, /got 1\.5/],
      ['dropOffMinutes', '60', /got a string/],
      ['backfillHours', -1, /backfillHours must be a whole number from 0 to 2160, got -1/],
      ['backfillHours', 2161, /got 2161/],
      ['enabled', 'false', /enabled must be true or false, got a string/],
      ['allowCustomDomain', 1, /allowCustomDomain must be true or false, got a number/],
      ['label', '', /label must be a non-empty string, got an empty string/],
      ['label', 'x'.repeat(257), /label must be at most 256 characters, got 257/],
    ])('rejects %s = %p', (field, value, message) => {
      const error = failure('a', secret({ domain: 'https://a.okta.com', apiToken: TOKEN, [field]: value }));

      expect(error.fields).toEqual([field]);
      expect(error.message).toMatch(message);
    });

    it('accepts the bounds themselves', () => {
      const config = parseSourceSecret(
        'a',
        secret({ domain: 'https://a.okta.com', apiToken: TOKEN, dropOffMinutes: 1, backfillHours: 2160 }),
      );

      expect(config).toMatchObject({ dropOffMinutes: 1, backfillHours: 2160 });
    });

    it('rejects an unknown key by name, so a misspelt option is not silently ignored', () => {
      const error = failure('a', secret({ domain: 'https://a.okta.com', apiToken: TOKEN, dropoffMinutes: 5 }));

      expect(error.fields).toEqual(['"dropoffMinutes"']);
      expect(error.message).toMatch(/"dropoffMinutes" is not a known field \(known: domain, apiToken/);
    });
  });

  it('reports every wrong field at once', () => {
    const error = failure('acme', secret({ domain: 'http://acme.okta.com', apiToken: '', dropOffMinutes: 0, enabled: 'no' }));

    expect(error.fields).toEqual(['domain', 'apiToken', 'dropOffMinutes', 'enabled']);
    expect(error.sourceId).toBe('acme');
  });

  it.each([
    ['not JSON', `{"apiToken": ${TOKEN}}`, /secret is not valid JSON; SecretString must be a JSON object \(see docs\/ONBOARDING\.md\)/],
    ['an array', `["${TOKEN}"]`, /secret must be a JSON object, got an array/],
    ['a string', JSON.stringify(TOKEN), /secret must be a JSON object, got a string/],
    ['null', 'null', /secret must be a JSON object, got null/],
  ])('rejects a SecretString that is %s without quoting it', (_case, text, message) => {
    const error = failure('acme', text);

    expect(error.message).toMatch(message);
    expect(error.message).not.toContain(TOKEN);
    expect(error.cause).toBeUndefined();
  });

  it.each(['', 'Acme', '-acme', 'acme_prod', 'a'.repeat(64), 'acme/prod'])('rejects source id %p', (sourceId) => {
    const error = failure(sourceId, secret({ domain: 'https://a.okta.com', apiToken: TOKEN }));

    expect(error.fields).toEqual(['sourceId']);
    expect(error.message).toMatch(/must match \^\[a-z0-9\]/);
  });

  it('accepts the longest source id', () => {
    expect(parseSourceSecret('a'.repeat(63), secret({ domain: 'https://a.okta.com', apiToken: TOKEN })).id).toBe('a'.repeat(63));
  });

  it('never puts a credential into an error, whatever else is wrong', () => {
    const credentials = fc.record({
      token: fc.stringMatching(/^[A-Za-z0-9_-]{20,60}$/),
      broken: fc.constantFrom<Record<string, unknown>>(
        { domain: 'http://x.okta.com' },
        { domain: 'https://x.example.com' },
        { domain: 'https://x.okta.com', dropOffMinutes: -3 },
        { domain: 'https://x.okta.com', label: 7 },
        { domain: 'https://x.okta.com', extra: 1 },
        {},
      ),
      placement: fc.constantFrom('apiToken', 'clientId', 'keyId', 'pem'),
    });
    fc.assert(
      fc.property(credentials, ({ token, broken, placement }) => {
        const fields: Record<string, unknown> =
          placement === 'apiToken'
            ? { ...broken, apiToken: token }
            : {
                ...broken,
                oauth:
                  placement === 'pem'
                    ? { clientId: 'c', privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${token}\n-----END PRIVATE KEY-----` }
                    : { clientId: 'c', privateKeyPem: rsaPem, [placement]: `${token} x` },
              };
        let message = '';
        try {
          parseSourceSecret('acme', secret(fields));
        } catch (error) {
          message = error instanceof Error ? `${error.message} ${String(error.cause)}` : String(error);
        }
        expect(message).not.toBe('');
        expect(message).not.toContain(token);
      }),
      { numRuns: 200 },
    );
  });
});

describe('sourceIdFromSecretName', () => {
  it('strips the prefix and ignores other names', () => {
    expect(sourceIdFromSecretName('okta-log-pipeline/sources/', 'okta-log-pipeline/sources/acme')).toBe('acme');
    expect(sourceIdFromSecretName('okta-log-pipeline/sources/', 'other/acme')).toBeUndefined();
  });
});
