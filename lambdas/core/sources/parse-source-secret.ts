import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { OktaCredential, SourceConfig } from '../ports';
import { InvalidSourceConfigError, type SourceConfigIssue } from './invalid-source-config-error';
import { SOURCE_ID_PATTERN, isValidSourceId, quoteSourceId } from './source-id';
import { classifyHost, OKTA_ORG_HOST_SUFFIXES } from './host-guard';

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
  minRsaModulusBits: 2048,
} as const;

export { OKTA_ORG_HOST_SUFFIXES };

/** The curves Okta accepts for ES256/ES384/ES512 client assertions. */
const SUPPORTED_EC_CURVES = ['prime256v1', 'secp384r1', 'secp521r1'];

const TOP_LEVEL_KEYS = ['domain', 'apiToken', 'oauth', 'label', 'dropOffMinutes', 'backfillHours', 'enabled', 'allowCustomDomain'];
const OAUTH_KEYS = ['clientId', 'privateKeyPem', 'keyId', 'dpop'];

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
    throw new InvalidSourceConfigError(sourceId, [{ field: 'secret', problem: 'is not valid JSON; SecretString must be a JSON object (see docs/ONBOARDING.md)' }]);
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
  const dropOffMinutes = optionalInteger(parsed, 'dropOffMinutes', SOURCE_SECRET_LIMITS.defaultDropOffMinutes, SOURCE_SECRET_LIMITS.minDropOffMinutes, SOURCE_SECRET_LIMITS.maxDropOffMinutes, issues);
  const backfillHours = optionalInteger(parsed, 'backfillHours', SOURCE_SECRET_LIMITS.defaultBackfillHours, 0, SOURCE_SECRET_LIMITS.maxBackfillHours, issues);
  const enabled = optionalBoolean(parsed, 'enabled', true, issues);

  if (issues.length > 0 || domain === undefined || credential === undefined) {
    throw new InvalidSourceConfigError(sourceId, issues);
  }
  return { id: sourceId, domain, label, dropOffMinutes, backfillHours, enabled, allowCustomDomain, credential };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
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
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    issues.push({ field: 'domain', problem: `is not a URL; ${expected}` });
    return undefined;
  }
  // Only the host is ever quoted back: a URL may carry a password, and the path could hold anything.
  const host = url.hostname;
  if (url.username !== '' || url.password !== '') {
    issues.push({ field: 'domain', problem: `must not contain a user name or password; ${expected}` });
    return undefined;
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    issues.push({ field: 'domain', problem: `must be an origin only, without path, query or fragment (host ${host}); ${expected}` });
    return undefined;
  }
  const verdict = classifyHost(host);
  if (verdict.kind === 'refused') {
    issues.push({ field: 'domain', problem: `${verdict.why}; ${expected}` });
    return undefined;
  }
  if (verdict.kind === 'loopback') {
    if (!allowLoopback) {
      issues.push({
        field: 'domain',
        problem: `is a loopback address (${host}), accepted only by the CLI and the demo with OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1, never by the Lambda`,
      });
      return undefined;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      issues.push({ field: 'domain', problem: `must use http or https for a loopback address, got ${url.protocol}` });
      return undefined;
    }
    return url.origin;
  }
  if (url.protocol !== 'https:') {
    issues.push({ field: 'domain', problem: `must use https (host ${host}, got ${url.protocol}); ${expected}` });
    return undefined;
  }
  if (verdict.kind === 'custom' && !allowCustomDomain) {
    issues.push({
      field: 'domain',
      problem: `host ${host} is not an Okta org host (*.${OKTA_ORG_HOST_SUFFIXES.join(', *.')}); for a custom URL domain set "allowCustomDomain": true`,
    });
    return undefined;
  }
  return url.origin;
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
  const clientId = value.clientId === undefined ? missing('oauth.clientId', issues) : credentialString(value.clientId, 'oauth.clientId', issues);
  const privateKeyPem = parsePrivateKeyPem(value.privateKeyPem, issues);
  let keyId: string | undefined;
  if (value.keyId !== undefined) {
    keyId = credentialString(value.keyId, 'oauth.keyId', issues);
  }
  const dpop = optionalBoolean(value, 'dpop', false, issues, 'oauth.');
  if (issues.length > before || clientId === undefined || privateKeyPem === undefined) return undefined;
  return keyId === undefined
    ? { kind: 'oauth', clientId, privateKeyPem, dpop }
    : { kind: 'oauth', clientId, privateKeyPem, keyId, dpop };
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
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    // OpenSSL's reason ("DECODER routines::unsupported") would not help the reader more than this.
    issues.push({ field, problem: 'is not an unencrypted PEM private key that node:crypto can load (expected "-----BEGIN PRIVATE KEY-----" or "-----BEGIN RSA PRIVATE KEY-----")' });
    return undefined;
  }
  const problem = unsupportedKeyProblem(key);
  if (problem !== undefined) {
    issues.push({ field, problem });
    return undefined;
  }
  return pem;
}

function unsupportedKeyProblem(key: KeyObject): string | undefined {
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = details?.modulusLength ?? 0;
    return bits < SOURCE_SECRET_LIMITS.minRsaModulusBits
      ? `is a ${bits}-bit RSA key; Okta requires at least ${SOURCE_SECRET_LIMITS.minRsaModulusBits} bits`
      : undefined;
  }
  if (key.asymmetricKeyType === 'ec') {
    const curve = details?.namedCurve ?? 'unknown';
    return SUPPORTED_EC_CURVES.includes(curve)
      ? undefined
      : `is an EC key on curve ${curve}; Okta accepts P-256, P-384 and P-521`;
  }
  return `is a ${key.asymmetricKeyType ?? 'unknown'} key; Okta's private_key_jwt needs an RSA or EC (P-256/P-384/P-521) key`;
}

function parseLabel(value: unknown, sourceId: string, issues: SourceConfigIssue[]): string {
  if (value === undefined) return sourceId;
  if (typeof value !== 'string' || value.trim() === '') {
    issues.push({ field: 'label', problem: `must be a non-empty string, got ${typeof value === 'string' ? 'an empty string' : describeType(value)}` });
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
