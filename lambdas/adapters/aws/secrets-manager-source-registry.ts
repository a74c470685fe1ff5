import { GetSecretValueCommand, ListSecretsCommand, type SecretListEntry, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Clock, SourceConfig, SourceProblem, SourceRegistry } from '../../core/ports';
import { mapWithConcurrency } from '../../core/puller/map-with-concurrency';
import { InvalidSourceConfigError, parseSourceSecret } from '../../core/sources/parse-source-secret';
import { isValidSourceId, sourceIdFromSecretName } from '../../core/sources/source-id';
import { SourceListingError, describeAwsError } from './errors';

/** How long the registry trusts secrets it has read, and how hard it reads them. */
export const SOURCE_REGISTRY_DEFAULTS = {
  /**
   * Ten minutes: GetSecretValue is billed per call and the puller runs every minute, so a
   * 5-second cache (Powertools' default) would read every secret on every run. A rotated secret
   * is still picked up at once: ListSecrets shows its new version id, which bypasses the cache,
   * and a 401 invalidates it.
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

interface CachedSecret {
  readonly versionId: string | undefined;
  readonly readAt: number;
  readonly result: { config: SourceConfig } | { problem: SourceProblem };
}

/**
 * The registered sources, one Secrets Manager secret each (`<prefix><sourceId>`): ListSecrets by
 * name prefix on every `list`, GetSecretValue only for secrets not cached, changed, expired, or
 * invalidated after a 401. A secret that cannot be read or parsed becomes a `SourceProblem`
 * naming the field; it never stops the others. Only a failing ListSecrets fails the listing.
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

    const results = await mapWithConcurrency(listed, this.options.readConcurrency ?? SOURCE_REGISTRY_DEFAULTS.readConcurrency, (entry) => this.read(entry));
    const sources: SourceConfig[] = [];
    const problems: SourceProblem[] = [];
    for (const result of results) {
      if (result === undefined) continue;
      if ('config' in result) sources.push(result.config);
      else problems.push(result.problem);
    }
    return { sources, problems };
  }

  invalidate(sourceId: string): void {
    this.cache.delete(sourceId);
  }

  private async listSecretNames(): Promise<Array<{ sourceId: string; name: string; versionId: string | undefined }>> {
    const found: Array<{ sourceId: string; name: string; versionId: string | undefined }> = [];
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
        throw new SourceListingError(`cannot list source secrets with prefix ${this.options.prefix}: ${describeAwsError(error)}`, { cause: error });
      }
      for (const entry of page.SecretList ?? []) {
        const sourceId = entry.Name === undefined ? undefined : sourceIdFromSecretName(this.options.prefix, entry.Name);
        // The filter is a prefix match already; checking again costs nothing and guards the contract.
        if (sourceId !== undefined && entry.Name !== undefined && entry.DeletedDate === undefined) {
          found.push({ sourceId, name: entry.Name, versionId: currentVersionId(entry) });
        }
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined);
    return found;
  }

  private async read(entry: { sourceId: string; name: string; versionId: string | undefined }): Promise<CachedSecret['result'] | undefined> {
    const { sourceId, name, versionId } = entry;
    if (!isValidSourceId(sourceId)) {
      // Reject by name before paying for GetSecretValue: no content can make the id valid.
      return parseResult(sourceId, '{}', false);
    }
    const now = this.options.clock.now();
    const cached = this.cache.get(sourceId);
    if (cached !== undefined && cached.versionId === versionId && now - cached.readAt < this.cacheTtlMs) return cached.result;

    let secretString: string | undefined;
    try {
      ({ SecretString: secretString } = await this.options.client.send(new GetSecretValueCommand({ SecretId: name })));
    } catch (error) {
      // Deleted between ListSecrets and now: offboarded, not a problem.
      if (error instanceof Error && error.name === 'ResourceNotFoundException') {
        this.cache.delete(sourceId);
        return undefined;
      }
      // A transient failure must not take a working source down: keep using what was read before.
      if (cached !== undefined && 'config' in cached.result) return cached.result;
      return { problem: { sourceId, message: `source ${sourceId}: cannot read secret ${name}: ${describeAwsError(error)}` } };
    }
    const result: CachedSecret['result'] =
      secretString === undefined
        ? { problem: { sourceId, message: `source ${sourceId}: secret ${name} has no SecretString; store the source as JSON text, not binary` } }
        : parseResult(sourceId, secretString, this.options.allowLoopback === true);
    this.cache.set(sourceId, { versionId, readAt: now, result });
    return result;
  }
}

function parseResult(sourceId: string, secretString: string, allowLoopback: boolean): CachedSecret['result'] {
  try {
    return { config: parseSourceSecret(sourceId, secretString, { allowLoopback }) };
  } catch (error) {
    if (error instanceof InvalidSourceConfigError) return { problem: { sourceId, message: error.message } };
    // parseSourceSecret throws nothing else; if it ever did, its message could quote the secret.
    return { problem: { sourceId, message: `source ${sourceId}: the secret could not be validated (${error instanceof Error ? error.name : 'unknown error'})` } };
  }
}

function currentVersionId(entry: SecretListEntry): string | undefined {
  const versions = entry.SecretVersionsToStages ?? {};
  return Object.keys(versions).find((id) => versions[id]?.includes('AWSCURRENT'));
}
