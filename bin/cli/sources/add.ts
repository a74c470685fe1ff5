import { sourceSecretString } from '../../../lambdas/contracts/source-secret';
import { InvalidSourceConfigError, parseSourceSecret } from '../../../lambdas/core/sources/parse-source-secret';
import type { SourceConfig } from '../../../lambdas/core/ports';
import { integerFlag, parseArgs } from './args';
import { testConnection } from './connection-test';
import { deleteCursorItem } from './cursor-items';
import { readCredential } from './credential-input';
import { SourcesCommandError, SourcesUsageError } from './errors';
import { authKindOf } from './describe-source';
import { SourceSecretStore } from './secret-store';
import { DEPLOYMENT_FLAGS, SOURCES_ENV, openDeployment } from './settings';
import { sourceIdArgument } from './source-id-argument';

const FLAGS = {
  values: ['--domain', '--token-env', '--oauth-file', '--label', '--drop-off-minutes', '--backfill-hours', ...DEPLOYMENT_FLAGS],
  switches: ['--custom-domain', '--update'],
} as const;

/** The flag that sets each field of the secret, so a refused value is reported in the operator's words. */
const FLAG_OF_FIELD: Readonly<Record<string, string>> = {
  domain: '--domain',
  apiToken: '--token-env',
  oauth: '--oauth-file',
  label: '--label',
  dropOffMinutes: '--drop-off-minutes',
  backfillHours: '--backfill-hours',
  allowCustomDomain: '--custom-domain',
};

/**
 * `sources add ID --domain URL (--token-env VAR | --oauth-file FILE) [...]`: validates the
 * secret as the puller will, makes one request to the org with it, and only then creates the
 * secret (or, with `--update`, replaces its value). Prints nothing of the credential.
 */
export async function addSource(args: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<void> {
  const parsed = parseArgs(args, FLAGS);
  const sourceId = sourceIdArgument(parsed.positionals, 'add');
  const domain = parsed.value('--domain');
  if (domain === undefined) throw new SourcesUsageError('--domain URL is required (the org, e.g. https://my-org.okta.com)');
  const credential = readCredential(parsed.value('--token-env'), parsed.value('--oauth-file'), env);
  const label = parsed.value('--label');
  const dropOffMinutes = integerFlag(parsed, '--drop-off-minutes');
  const backfillHours = integerFlag(parsed, '--backfill-hours');
  const secretString = sourceSecretString({
    domain,
    ...credential,
    ...(label === undefined ? {} : { label }),
    ...(dropOffMinutes === undefined ? {} : { dropOffMinutes }),
    ...(backfillHours === undefined ? {} : { backfillHours }),
    enabled: true,
    ...(parsed.has('--custom-domain') ? { allowCustomDomain: true } : {}),
  });

  const deployment = openDeployment(parsed, env);
  try {
    const config = validate(sourceId, secretString, deployment.allowLoopback);
    const store = new SourceSecretStore(deployment.secretsManager, deployment.prefix);
    const update = parsed.has('--update');
    const existing = await store.describe(sourceId);
    if (existing?.deletedAt !== undefined) {
      throw new SourcesCommandError(
        `source ${sourceId}: secret ${existing.name} was removed on ${existing.deletedAt.toISOString()} and waits out its recovery window; ` +
          `restore it first (aws secretsmanager restore-secret --secret-id ${existing.name}) and run add again with --update`,
      );
    }
    if (existing !== undefined && !update) {
      throw new SourcesCommandError(
        `source ${sourceId} already exists (secret ${existing.name}); nothing was changed. Use --update to replace its credential and settings`,
      );
    }

    // A cursor is Okta's next link on the old org: the client would refuse it (foreign origin) on
    // every run. So a changed domain resets the cursor, and needs the table to do it.
    const previousOrigin = existing === undefined ? undefined : originOf(await store.read(sourceId));
    const domainChanged = previousOrigin !== undefined && previousOrigin !== config.domain;
    if (domainChanged && !deployment.hasCursorTable) {
      throw new SourcesUsageError(
        `source ${sourceId}: --domain moves the source from ${previousOrigin} to ${config.domain}, so its cursor must be reset; pass --table NAME (or set ${SOURCES_ENV.cursorTable}) with the stack's CursorTableName`,
      );
    }
    const staleCursorTable = domainChanged ? deployment.cursorTable() : undefined;

    const probe = await testConnection(config, deployment.allowLoopback);
    const verb = existing === undefined ? 'added' : 'updated';
    if (existing === undefined) {
      await store.create(sourceId, secretString, `okta-log-pipeline source ${sourceId}: Okta System Log of ${config.domain}`);
    } else {
      await store.put(sourceId, secretString);
    }
    const cursorReset = staleCursorTable !== undefined && (await deleteCursorItem(staleCursorTable, sourceId));
    out.write(
      `${verb} source ${sourceId} (${JSON.stringify(config.label)}, ${config.domain}, ${authKindOf(config)}) as secret ${store.nameOf(sourceId)}\n` +
        `  connection test: Okta answered ${probe.events === 0 ? 'with no event in the last hour' : 'with an event of the last hour'}; the credential may read the System Log\n` +
        `  the puller picks it up on its next run (within a minute)` +
        (existing === undefined || cursorReset ? `, starting ${config.backfillHours} h back` : ', resuming from its cursor') +
        `; drop-off alarm after ${config.dropOffMinutes} min without events\n` +
        (cursorReset ? `  the domain changed, so the cursor of the previous org was deleted from table ${staleCursorTable?.name}\n` : ''),
    );
  } finally {
    deployment.close();
  }
}

/** The origin of a stored secret's domain, or `undefined` when it has none that parses. */
function originOf(secretString: string | undefined): string | undefined {
  if (secretString === undefined) return undefined;
  try {
    const domain: unknown = (JSON.parse(secretString) as { domain?: unknown }).domain;
    return typeof domain === 'string' && URL.canParse(domain.trim()) ? new URL(domain.trim()).origin : undefined;
  } catch {
    // Not a JSON object: nothing could have pulled with it, so there is no cursor of another org to reset.
    return undefined;
  }
}

function validate(sourceId: string, secretString: string, allowLoopback: boolean): SourceConfig {
  try {
    return parseSourceSecret(sourceId, secretString, { allowLoopback });
  } catch (error) {
    if (!(error instanceof InvalidSourceConfigError)) throw error;
    const problems = error.issues.map((issue) => {
      const flag = FLAG_OF_FIELD[issue.field.split('.')[0] as string];
      // The parser speaks of the secret's fields; on the command line the opt-in is a flag.
      const problem = issue.problem.replace('set "allowCustomDomain": true', 'pass --custom-domain');
      return `${flag === undefined ? issue.field : `${flag} (${issue.field})`} ${problem}`;
    });
    throw new SourcesUsageError(`source ${sourceId}: ${problems.join('; ')}`, { cause: error });
  }
}
