import {
  GetSecretValueCommand,
  ListSecretsCommand,
  type SecretListEntry,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import type { Clock, SourceConfig, SourceProblem, SourceRefresh, SourceRegistry } from '../../core/ports';
import { mapWithConcurrency } from '../../core/puller/map-with-concurrency';
import { InvalidSourceConfigError, parseSourceSecret } from '../../core/sources/parse-source-secret';
import { isValidSourceId, sourceIdFromSecretName } from '../../core/sources/source-id';
import { SourceListingError, describeAwsError, isSecretMarkedForDeletion, isSecretNotFound } from './errors';

/** How long the registry trusts secrets it has read, and how hard it reads them. */
export const SOURCE_REGISTRY_DEFAULTS = {
  /**
   * Each secret is re-read at least this often, whatever the listing says. Ten minutes:
   * GetSecretValue is billed per call and the puller runs every minute, so a 5-second cache
   * (Powertools' default) would read every secret on every run. Edits reach the puller sooner
   * when ListSecrets shows the secret's new version id, but that listing "might not reflect
   * changes from the last five minutes"
   * (https://docs.aws.amazon.com/sdk-for-python/v1/reference/clients/secrets-manager/operations/list_secrets/),
   * so nothing that must be prompt waits for it: a refused credential is re-read at once
   * (`refresh`), which is how a rotated token is picked up.
   */
  cacheTtlMs: 10 * 60 * 1000,
  /** ListSecrets' own page ceiling: fewer calls for 500 sources. */
  listPageSize: 100,
  /**
   * Parallel GetSecretValue calls on a cold cache: 500 sources read in ~50 round trips, well
   * inside Secrets Manager's 10,000 GetSecretValue per second quota.
   */
  readConcurrency: 10,
} as const;

/**
 * Version ids a cached secret is known to have moved past, kept so that a listing still showing
 * one of them (it lags) does not cause a re-read on every run. A few suffice: each entry is a
 * rotation within the listing's few minutes of lag.
 */
const SUPERSEDED_VERSIONS_KEPT = 4;

export interface SecretsManagerSourceRegistryOptions {
  readonly client: SecretsManagerClient;
  /** Secret name prefix, e.g. `okta-log-pipeline/sources/`; the rest of the name is the source id. */
  readonly prefix: string;
  readonly clock: Clock;
  readonly cacheTtlMs?: number;
  readonly readConcurrency?: number;
  /** Passed to `parseSourceSecret`; the Lambda never sets it. */
  readonly allowLoopback?: boolean;
}

type ReadResult = { config: SourceConfig } | { problem: SourceProblem };

interface CachedSecret {
  /** The version GetSecretValue returned (not the listing's, which may be older). */
  readonly versionId: string | undefined;
  /** Older version ids of this secret, newest last: a listing showing one of them is stale. */
  readonly superseded: readonly string[];
  readonly readAt: number;
  readonly result: ReadResult;
}

/** A GetSecretValue of one source's secret: what it found, or that the source is gone. */
type Fetched = { kind: 'read'; result: ReadResult } | { kind: 'offboarded' } | { kind: 'failed'; error: unknown };

/**
 * The registered sources, one Secrets Manager secret each (`<prefix><sourceId>`): ListSecrets by
 * name prefix on every `list`, GetSecretValue only for secrets not cached, changed, broken, or read
 * longer than `cacheTtlMs` ago, and on `refresh`. A secret that is deleted or scheduled for deletion is an
 * offboarded source, whether the listing or GetSecretValue says so first. A secret that cannot be
 * read or parsed becomes a `SourceProblem` naming the field; it never stops the others. Only a
 * failing ListSecrets fails the listing.
 */
export class SecretsManagerSourceRegistry implements SourceRegistry {
  private readonly cache = new Map<string, CachedSecret>();
  private readonly cacheTtlMs: number;

  constructor(private readonly options: SecretsManagerSourceRegistryOptions) {
    this.cacheTtlMs = options.cacheTtlMs ?? SOURCE_REGISTRY_DEFAULTS.cacheTtlMs;
  }

  /**
   * `include` narrows the listing by source id before any secret is read: a puller shard reads
   * only its own sources' secrets (and caches only those).
   */
  async list(include: (sourceId: string) => boolean = () => true): Promise<{ sources: SourceConfig[]; problems: SourceProblem[] }> {
    const listed = (await this.listSecretNames()).filter((entry) => include(entry.sourceId));
    const listedIds = new Set(listed.map((entry) => entry.sourceId));
    for (const id of [...this.cache.keys()]) if (!listedIds.has(id)) this.cache.delete(id);

    const results = await mapWithConcurrency(listed, this.options.readConcurrency ?? SOURCE_REGISTRY_DEFAULTS.readConcurrency, (entry) =>
      this.read(entry),
    );
    const sources: SourceConfig[] = [];
    const problems: SourceProblem[] = [];
    for (const result of results) {
      if (result === undefined) continue;
      if ('config' in result) sources.push(result.config);
      else problems.push(result.problem);
    }
    return { sources, problems };
  }

  /**
   * GetSecretValue now, whatever the cache and the listing say. An unchanged secret answers the
   * cached configuration object itself, so the caller can tell that nothing changed.
   */
  async refresh(sourceId: string): Promise<SourceRefresh> {
    if (!isValidSourceId(sourceId)) return { status: 'unavailable' };
    const fetched = await this.fetch(sourceId, undefined);
    if (fetched.kind === 'offboarded') return { status: 'offboarded' };
    if (fetched.kind === 'failed' || !('config' in fetched.result)) return { status: 'unavailable' };
    return { status: 'current', source: fetched.result.config };
  }

  private async listSecretNames(): Promise<Array<{ sourceId: string; versionId: string | undefined }>> {
    const found: Array<{ sourceId: string; versionId: string | undefined }> = [];
    let nextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.options.client.send(
          new ListSecretsCommand({
            Filters: [{ Key: 'name', Values: [this.options.prefix] }],
            MaxResults: SOURCE_REGISTRY_DEFAULTS.listPageSize,
            NextToken: nextToken,
          }),
        );
      } catch (error) {
        throw new SourceListingError(`cannot list source secrets with prefix ${this.options.prefix}: ${describeAwsError(error)}`, {
          cause: error,
        });
      }
      for (const entry of page.SecretList ?? []) {
        const sourceId = entry.Name === undefined ? undefined : sourceIdFromSecretName(this.options.prefix, entry.Name);
        // The filter is a prefix match already; checking again costs nothing and guards the contract.
        // ListSecrets leaves out secrets scheduled for deletion unless asked; DeletedDate guards that too.
        if (sourceId !== undefined && entry.DeletedDate === undefined) {
          found.push({ sourceId, versionId: currentVersionId(entry) });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return found;
  }

  private async read(entry: { sourceId: string; versionId: string | undefined }): Promise<ReadResult | undefined> {
    const { sourceId, versionId } = entry;
    if (!isValidSourceId(sourceId)) {
      // Reject by name before paying for GetSecretValue: no content can make the id valid.
      return parseResult(sourceId, '{}', false);
    }
    const cached = this.cache.get(sourceId);
    // A broken secret is read again every run (one read a minute each), so that fixing or deleting
    // it clears its problem at the next run whatever the listing shows.
    if (cached !== undefined && 'config' in cached.result && this.options.clock.now() - cached.readAt < this.cacheTtlMs) {
      // The listing may show the version read, or (lagging) one the cache has already moved past.
      const known = versionId === undefined || versionId === cached.versionId || cached.superseded.includes(versionId);
      if (known) return cached.result;
    }
    const fetched = await this.fetch(sourceId, versionId);
    if (fetched.kind === 'offboarded') return undefined;
    if (fetched.kind === 'read') return fetched.result;
    // A transient failure must not take a working source down: keep using what was read before.
    if (cached !== undefined && 'config' in cached.result) return cached.result;
    return {
      problem: { sourceId, message: `source ${sourceId}: cannot read secret ${this.nameOf(sourceId)}: ${describeAwsError(fetched.error)}` },
    };
  }

  /** GetSecretValue of one source's secret, caching what it found. `listedVersionId`: what the listing showed. */
  private async fetch(sourceId: string, listedVersionId: string | undefined): Promise<Fetched> {
    const now = this.options.clock.now();
    let answer;
    try {
      answer = await this.options.client.send(new GetSecretValueCommand({ SecretId: this.nameOf(sourceId) }));
    } catch (error) {
      // Deleted, or scheduled for deletion (its recovery window), since the listing was read:
      // offboarded, never a problem that pages.
      if (isSecretNotFound(error) || isSecretMarkedForDeletion(error)) {
        this.cache.delete(sourceId);
        return { kind: 'offboarded' };
      }
      return { kind: 'failed', error };
    }
    const cached = this.cache.get(sourceId);
    const versionId = answer.VersionId;
    const unchanged = cached !== undefined && versionId !== undefined && versionId === cached.versionId;
    let result: ReadResult;
    if (unchanged) {
      // A version's value never changes: the same configuration object, so per-source clients built on it are kept.
      result = cached.result;
    } else if (answer.SecretString === undefined) {
      result = {
        problem: {
          sourceId,
          message: `source ${sourceId}: secret ${this.nameOf(sourceId)} has no SecretString; store the source as JSON text, not binary`,
        },
      };
    } else {
      result = parseResult(sourceId, answer.SecretString, this.options.allowLoopback === true);
    }
    const older = [...(cached?.superseded ?? []), ...(unchanged ? [] : [cached?.versionId]), listedVersionId];
    const superseded = [...new Set(older.filter((id): id is string => id !== undefined && id !== versionId))].slice(
      -SUPERSEDED_VERSIONS_KEPT,
    );
    this.cache.set(sourceId, { versionId, superseded, readAt: now, result });
    return { kind: 'read', result };
  }

  private nameOf(sourceId: string): string {
    return `${this.options.prefix}${sourceId}`;
  }
}

function parseResult(sourceId: string, secretString: string, allowLoopback: boolean): ReadResult {
  try {
    return { config: parseSourceSecret(sourceId, secretString, { allowLoopback }) };
  } catch (error) {
    if (error instanceof InvalidSourceConfigError) return { problem: { sourceId, message: error.message } };
    // parseSourceSecret throws nothing else; if it ever did, its message could quote the secret.
    return {
      problem: {
        sourceId,
        message: `source ${sourceId}: the secret could not be validated (${error instanceof Error ? error.name : 'unknown error'})`,
      },
    };
  }
}

function currentVersionId(entry: SecretListEntry): string | undefined {
  const versions = entry.SecretVersionsToStages ?? {};
  return Object.keys(versions).find((id) => versions[id]?.includes('AWSCURRENT'));
}
