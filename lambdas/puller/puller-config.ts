import { DEFAULT_OKTA_CLIENT_LIMITS } from '../core/okta';
import { DEFAULT_PULLER_LIMITS, DEFAULT_RUN_BUDGET_MS } from '../core/puller/run-puller';
import { SOURCE_REGISTRY_DEFAULTS } from '../adapters/aws/secrets-manager-source-registry';

/** The puller's configuration, read from its environment (set by the CDK stack). */
export interface PullerConfig {
  readonly sourceSecretPrefix: string;
  readonly cursorTableName: string;
  readonly streamName: string;
  readonly quarantineBucketName: string;
  readonly runBudgetMs: number;
  readonly rateLimitReservePercent: number;
  readonly secretCacheMs: number;
  readonly concurrency: number;
}

/** The environment is wrong: the whole puller cannot run (a deployment problem, not a source's). */
export class PullerConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PullerConfigError';
  }
}

export const DEFAULT_SOURCE_SECRET_PREFIX = 'okta-log-pipeline/sources/';

/**
 * Reads the puller's environment:
 * `SOURCE_SECRET_PREFIX` (default `okta-log-pipeline/sources/`), `CURSOR_TABLE_NAME`,
 * `STREAM_NAME`, `QUARANTINE_BUCKET_NAME` (required), `RUN_BUDGET_SECONDS` (default 55),
 * `RATE_LIMIT_RESERVE_PERCENT` (default 20), `SECRET_CACHE_SECONDS` (default 600),
 * `PULL_CONCURRENCY` (default 8).
 */
export function readPullerConfig(env: Readonly<Record<string, string | undefined>>): PullerConfig {
  return {
    sourceSecretPrefix: env.SOURCE_SECRET_PREFIX || DEFAULT_SOURCE_SECRET_PREFIX,
    cursorTableName: required(env, 'CURSOR_TABLE_NAME'),
    streamName: required(env, 'STREAM_NAME'),
    quarantineBucketName: required(env, 'QUARANTINE_BUCKET_NAME'),
    runBudgetMs: number(env, 'RUN_BUDGET_SECONDS', DEFAULT_RUN_BUDGET_MS / 1000, 1, 900) * 1000,
    rateLimitReservePercent: number(env, 'RATE_LIMIT_RESERVE_PERCENT', DEFAULT_OKTA_CLIENT_LIMITS.rateLimitReservePercent, 0, 90),
    secretCacheMs: number(env, 'SECRET_CACHE_SECONDS', SOURCE_REGISTRY_DEFAULTS.cacheTtlMs / 1000, 0, 86_400) * 1000,
    concurrency: number(env, 'PULL_CONCURRENCY', DEFAULT_PULLER_LIMITS.concurrency, 1, 64),
  };
}

function required(env: Readonly<Record<string, string | undefined>>, name: string): string {
  const value = env[name];
  if (value === undefined || value.trim() === '')
    throw new PullerConfigError(`puller environment: ${name} is not set (the stack sets it to the resource's name)`);
  return value.trim();
}

function number(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number, min: number, max: number): number {
  const text = env[name];
  if (text === undefined || text.trim() === '') return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new PullerConfigError(`puller environment: ${name} must be a number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}
