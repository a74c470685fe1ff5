import { isPlainObject, parseJson } from '../json';
import { SOURCE_SECRET_KEYS, SOURCE_SECRET_OAUTH_KEYS } from '../../contracts/source-secret';
import type { OktaCredential, SourceConfig } from '../ports';
import { InvalidSourceConfigError, type SourceConfigIssue } from './invalid-source-config-error';
import { SOURCE_ID_PATTERN, isValidSourceId, quoteSourceId } from './source-id';
import { describeSigningKeyProblem, loadSigningKey, MIN_RSA_MODULUS_BITS } from '../okta/jwt';
import { checkOrgOrigin, OKTA_ORG_HOST_SUFFIXES, type OriginProblem } from './host-guard';

export { InvalidSourceConfigError, type SourceConfigIssue } from './invalid-source-config-error';

/** The defaults and bounds of a source secret's fields, each with the reason for its value. */
export const SOURCE_SECRET_LIMITS = {
  /** A source that delivered nothing for an hour pages on-call unless it says otherwise. */
  defaultDropOffMinutes: 60,
  /** Below a minute the one-minute schedule cannot tell a quiet org from a dead one. */
  minDropOffMinutes: 1,
  /** Okta keeps 90 days of logs; a longer interval is a unit mistake (seconds for minutes), not a wish. */
  maxDropOffMinutes: 90 * 24 * 60,
  /** A new source starts with a day of history: enough to see it work, cheap on the rate limit. */
  defaultBackfillHours: 24,
  /** Okta keeps 90 days of System Log; asking for older answers 400 (E0000053) past 180 days. */
  maxBackfillHours: 90 * 24,
  /** Labels become a `p_source_label` on every record; longer ones are almost surely a mistake. */
  maxLabelLength: 256,
  /** Okta API tokens are 42 characters and client ids 20; this only stops pasted garbage. */
  maxTokenLength: 4096,
  /** Okta supports RS256..RS512 for private_key_jwt; keys below 2048 bits are refused by Okta. */
  minRsaModulusBits: MIN_RSA_MODULUS_BITS,
} as const;

export { OKTA_ORG_HOST_SUFFIXES };

/** The fields of the secret's format (its contract, shared with every writer). */
const TOP_LEVEL_KEYS: readonly string[] = SOURCE_SECRET_KEYS;
const OAUTH_KEYS: readonly string[] = SOURCE_SECRET_OAUTH_KEYS;

export interface ParseSourceSecretOptions {
  /**
   * Accept `http://127.0.0.1:PORT` / `http://localhost:PORT` domains: only the CLI and the demo,
   * when `OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1`; the Lambda never does, so a secret can never point
   * the puller's credential at something inside its own network.
   */
  readonly allowLoopback?: boolean;
}

/**
 * Validates one source's SecretString (one source is one Secrets Manager secret; its format is
 * in docs/ONBOARDING.md) and returns its configuration with defaults filled in.
 *
 * Unknown keys are rejected: a misspelt optional field (`dropoffMinutes`) would otherwise be
 * ignored silently and the source would run on the default, which is exactly the kind of
 * mistake nobody notices until an alarm fails to fire. The price, that a secret written for a
 * newer version fails on an older one, shows up at once as a clear SourceConfigErrors alarm.
 *
 * @throws InvalidSourceConfigError naming the source and every wrong field, never a value of the secret.
 */
export function parseSourceSecret(sourceId: string, secretString: string, options: ParseSourceSecretOptions = {}): SourceConfig {
  if (!isValidSourceId(sourceId)) {
    throw new InvalidSourceConfigError(sourceId, [
      {
        field: 'sourceId',
        problem: `${quoteSourceId(sourceId)} must match ${SOURCE_ID_PATTERN.source} (the secret name after the prefix: lower-case letters, digits and '-', at most 63 characters)`,
      },
    ]);
  }
  const parsed = parseJson(secretString);
  if (parsed === undefined) {
    // The SyntaxError is left out on purpose: V8 quotes the text it failed on, i.e. the token.
    throw new InvalidSourceConfigError(sourceId, [
      { field: 'secret', problem: 'is not valid JSON; SecretString must be a JSON object (see docs/ONBOARDING.md)' },
    ]);
  }
  if (!isPlainObject(parsed)) {
    throw new InvalidSourceConfigError(sourceId, [{ field: 'secret', problem: `must be a JSON object, got ${describeType(parsed)}` }]);
  }

  const issues: SourceConfigIssue[] = [];
  for (const key of unknownKeys(parsed, TOP_LEVEL_KEYS)) {
    issues.push({ field: quoteKey(key), problem: `is not a known field (known: ${TOP_LEVEL_KEYS.join(', ')})` });
  }
  const allowCustomDomain = optionalBoolean(parsed, 'allowCustomDomain', false, issues);
  const domain = parseDomain(parsed.domain, allowCustomDomain, options.allowLoopback === true, issues);
  const credential = parseCredential(parsed, issues);
  const label = parseLabel(parsed.label, sourceId, issues);
  const dropOffMinutes = optionalInteger(
    parsed,
    'dropOffMinutes',
    SOURCE_SECRET_LIMITS.defaultDropOffMinutes,
    SOURCE_SECRET_LIMITS.minDropOffMinutes,
    SOURCE_SECRET_LIMITS.maxDropOffMinutes,
    issues,
  );
  const backfillHours = optionalInteger(
    parsed,
    'backfillHours',
    SOURCE_SECRET_LIMITS.defaultBackfillHours,
    0,
    SOURCE_SECRET_LIMITS.maxBackfillHours,
    issues,
  );
  const enabled = optionalBoolean(parsed, 'enabled', true, issues);

  if (issues.length > 0 || domain === undefined || credential === undefined) {
    throw new InvalidSourceConfigError(sourceId, issues);
  }
  return { id: sourceId, domain, label, dropOffMinutes, backfillHours, enabled, allowCustomDomain, credential };
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function unknownKeys(object: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(object).filter((key) => !known.includes(key));
}

/** Key names are shown quoted and shortened: they are the user's words, not secret values. */
function quoteKey(key: string): string {
  return JSON.stringify(key.length > 40 ? `${key.slice(0, 40)}...` : key);
}

function parseDomain(value: unknown, allowCustomDomain: boolean, allowLoopback: boolean, issues: SourceConfigIssue[]): string | undefined {
  const expected = 'expected the org origin, e.g. https://my-org.okta.com';
  if (value === undefined) {
    issues.push({ field: 'domain', problem: `is missing; ${expected}` });
    return undefined;
  }
  if (typeof value !== 'string') {
    issues.push({ field: 'domain', problem: `must be a string, got ${describeType(value)}; ${expected}` });
    return undefined;
  }
  const verdict = checkOrgOrigin(value.trim(), { allowLoopback, allowCustomDomain });
  if (verdict.problem !== undefined) {
    issues.push({ field: 'domain', problem: describeOriginProblem(verdict.problem, expected) });
    return undefined;
  }
  return verdict.origin;
}

function describeOriginProblem(problem: OriginProblem, expected: string): string {
  switch (problem.kind) {
    case 'not-a-url':
      return `is not a URL; ${expected}`;
    case 'has-user-or-password':
      return `must not contain a user name or password; ${expected}`;
    case 'not-origin-only':
      return `must be an origin only, without path, query or fragment (host ${problem.host}); ${expected}`;
    case 'refused-host':
      return `${problem.why}; ${expected}`;
    case 'loopback-not-allowed':
      return `is a loopback address (${problem.host}), accepted only by the CLI and the demo with OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1, never by the Lambda`;
    case 'loopback-scheme':
      return `must use http or https for a loopback address, got ${problem.protocol}`;
    case 'not-https':
      return `must use https (host ${problem.host}, got ${problem.protocol}); ${expected}`;
    case 'custom-domain-not-allowed':
      return `host ${problem.host} is not an Okta org host (*.${OKTA_ORG_HOST_SUFFIXES.join(', *.')}); for a custom URL domain set "allowCustomDomain": true`;
  }
}

function parseCredential(secret: Record<string, unknown>, issues: SourceConfigIssue[]): OktaCredential | undefined {
  const hasToken = secret.apiToken !== undefined;
  const hasOauth = secret.oauth !== undefined;
  if (hasToken && hasOauth) {
    issues.push({ field: 'apiToken', problem: 'and oauth are both set; give exactly one of them' });
    return undefined;
  }
  if (!hasToken && !hasOauth) {
    issues.push({ field: 'apiToken', problem: 'is missing; give either apiToken (an Okta API token) or oauth (a service app)' });
    return undefined;
  }
  if (hasToken) {
    const token = credentialString(secret.apiToken, 'apiToken', issues);
    return token === undefined ? undefined : { kind: 'apiToken', token };
  }
  return parseOauth(secret.oauth, issues);
}

/**
 * A credential-like string: non-empty and free of whitespace and control characters, because it
 * goes into an HTTP header (a stray newline from a copy-paste would otherwise fail obscurely).
 */
function credentialString(value: unknown, field: string, issues: SourceConfigIssue[]): string | undefined {
  if (typeof value !== 'string') {
    issues.push({ field, problem: `must be a string, got ${describeType(value)}` });
    return undefined;
  }
  const trimmed = value.trim();
  if (trimmed === '') {
    issues.push({ field, problem: 'must not be empty' });
    return undefined;
  }
  if (trimmed.length > SOURCE_SECRET_LIMITS.maxTokenLength) {
    issues.push({ field, problem: `is longer than ${SOURCE_SECRET_LIMITS.maxTokenLength} characters` });
    return undefined;
  }
  if (/[\s\p{Cc}]/u.test(trimmed)) {
    issues.push({ field, problem: 'must not contain spaces, line breaks or control characters' });
    return undefined;
  }
  return trimmed;
}

function parseOauth(value: unknown, issues: SourceConfigIssue[]): OktaCredential | undefined {
  if (!isPlainObject(value)) {
    issues.push({ field: 'oauth', problem: `must be an object {clientId, privateKeyPem, keyId?, dpop?}, got ${describeType(value)}` });
    return undefined;
  }
  const before = issues.length;
  for (const key of unknownKeys(value, OAUTH_KEYS)) {
    issues.push({ field: `oauth.${quoteKey(key)}`, problem: `is not a known field (known: ${OAUTH_KEYS.join(', ')})` });
  }
  const clientId =
    value.clientId === undefined ? missing('oauth.clientId', issues) : credentialString(value.clientId, 'oauth.clientId', issues);
  const privateKeyPem = parsePrivateKeyPem(value.privateKeyPem, issues);
  let keyId: string | undefined;
  if (value.keyId !== undefined) {
    keyId = credentialString(value.keyId, 'oauth.keyId', issues);
  }
  const dpop = optionalBoolean(value, 'dpop', false, issues, 'oauth.');
  if (issues.length > before || clientId === undefined || privateKeyPem === undefined) return undefined;
  return keyId === undefined ? { kind: 'oauth', clientId, privateKeyPem, dpop } : { kind: 'oauth', clientId, privateKeyPem, keyId, dpop };
}

function missing(field: string, issues: SourceConfigIssue[]): undefined {
  issues.push({ field, problem: 'is missing' });
  return undefined;
}

/**
 * The private key must load with node:crypto now, not at the first token call, so a bad key is
 * reported as a configuration error of this source instead of an authentication failure later.
 * A PEM pasted into JSON with literal `\n` sequences (a frequent hand-editing slip) is repaired.
 */
function parsePrivateKeyPem(value: unknown, issues: SourceConfigIssue[]): string | undefined {
  const field = 'oauth.privateKeyPem';
  if (value === undefined) return missing(field, issues);
  if (typeof value !== 'string') {
    issues.push({ field, problem: `must be a string (a PEM "-----BEGIN PRIVATE KEY-----" block), got ${describeType(value)}` });
    return undefined;
  }
  const pem = value.includes('\n') ? value.trim() : value.replace(/\\n/g, '\n').trim();
  const loaded = loadSigningKey(pem);
  if (loaded.problem !== undefined) {
    issues.push({ field, problem: describeSigningKeyProblem(loaded.problem) });
    return undefined;
  }
  return pem;
}

function parseLabel(value: unknown, sourceId: string, issues: SourceConfigIssue[]): string {
  if (value === undefined) return sourceId;
  if (typeof value !== 'string' || value.trim() === '') {
    issues.push({
      field: 'label',
      problem: `must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : describeType(value)}`,
    });
    return sourceId;
  }
  if (value.length > SOURCE_SECRET_LIMITS.maxLabelLength) {
    issues.push({ field: 'label', problem: `must be at most ${SOURCE_SECRET_LIMITS.maxLabelLength} characters, got ${value.length}` });
    return sourceId;
  }
  return value.trim();
}

function optionalInteger(
  object: Record<string, unknown>,
  field: string,
  fallback: number,
  min: number,
  max: number,
  issues: SourceConfigIssue[],
): number {
  const value = object[field];
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const got = typeof value === 'number' ? String(value) : describeType(value);
    issues.push({ field, problem: `must be a whole number from ${min} to ${max}, got ${got}` });
    return fallback;
  }
  return value;
}

function optionalBoolean(
  object: Record<string, unknown>,
  key: string,
  fallback: boolean,
  issues: SourceConfigIssue[],
  fieldPrefix = '',
): boolean {
  const value = object[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    issues.push({ field: `${fieldPrefix}${key}`, problem: `must be true or false, got ${describeType(value)}` });
    return fallback;
  }
  return value;
}
