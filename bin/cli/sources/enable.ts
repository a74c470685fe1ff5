import { parseJsonObject } from '../../../lambdas/core/json';
import { SOURCE_SECRET_FIELD } from '../../../lambdas/contracts/source-secret';
import { parseArgs } from './args';
import { SourcesCommandError } from './errors';
import { SourceSecretStore } from './secret-store';
import { DEPLOYMENT_FLAGS, openDeployment } from './settings';
import { sourceIdArgument } from './source-id-argument';

const FLAGS = { values: [...DEPLOYMENT_FLAGS], switches: [] } as const;

/**
 * `sources enable ID` / `sources disable ID`: sets `"enabled"` in the source's secret and leaves
 * every other field as it is. A disabled source keeps its secret and cursor; the puller skips it
 * and emits no metrics for it, so its drop-off alarm series ends instead of paging. Enabling it
 * again resumes from the cursor.
 */
export async function setSourceEnabled(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  out: NodeJS.WritableStream,
  enabled: boolean,
): Promise<void> {
  const subcommand = enabled ? 'enable' : 'disable';
  const parsed = parseArgs(args, FLAGS);
  const sourceId = sourceIdArgument(parsed.positionals, subcommand);
  const deployment = openDeployment(parsed, env);
  try {
    const store = new SourceSecretStore(deployment.secretsManager, deployment.prefix);
    const name = store.nameOf(sourceId);
    const secretString = await store.read(sourceId);
    if (secretString === undefined) throw new SourcesCommandError(`source ${sourceId}: no secret ${name}; nothing to ${subcommand}`);
    const secret = parseJsonObject(secretString);
    if (secret === undefined) {
      throw new SourcesCommandError(
        `source ${sourceId}: secret ${name} is not a JSON object; fix it first (sources list shows what is wrong)`,
      );
    }
    if ((secret[SOURCE_SECRET_FIELD.enabled] ?? true) === enabled) {
      out.write(`source ${sourceId} is already ${enabled ? 'enabled' : 'disabled'}; nothing changed\n`);
      return;
    }
    await store.put(sourceId, JSON.stringify({ ...secret, [SOURCE_SECRET_FIELD.enabled]: enabled }));
    out.write(
      enabled
        ? `enabled source ${sourceId}: the puller resumes it from its cursor at its next run\n`
        : `disabled source ${sourceId}: the puller skips it from its next run; its secret and cursor are kept (sources enable ${sourceId} resumes it)\n`,
    );
  } finally {
    deployment.close();
  }
}
