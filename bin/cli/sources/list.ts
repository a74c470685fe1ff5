import { parseArgs } from './args';
import { renderTable, summarize } from './describe-source';
import { SourcesUsageError } from './errors';
import { DEPLOYMENT_FLAGS, listRegisteredSources, openDeployment } from './settings';

const FLAGS = { values: [...DEPLOYMENT_FLAGS], switches: ['--json'] } as const;

/**
 * `sources list [--json]`: every source secret under the prefix, read and validated exactly as
 * the puller's registry does, so an invalid secret shows here with the same message its
 * SourceConfigErrors alarm would log. Secrets scheduled for deletion are not listed.
 */
export async function listSources(args: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<void> {
  const parsed = parseArgs(args, FLAGS);
  if (parsed.positionals.length > 0) throw new SourcesUsageError(`sources list takes no arguments, got ${parsed.positionals.join(' ')}`);
  const deployment = openDeployment(parsed, env);
  try {
    const listed = await listRegisteredSources(deployment);
    const sources = listed.sources.map(summarize).sort((a, b) => a.id.localeCompare(b.id));
    const problems = [...listed.problems].sort((a, b) => a.sourceId.localeCompare(b.sourceId));
    if (parsed.has('--json')) {
      out.write(`${JSON.stringify({ prefix: deployment.prefix, sources, invalid: problems })}\n`);
      return;
    }
    if (sources.length === 0 && problems.length === 0) {
      out.write(`no sources under ${deployment.prefix} (add one with: okta-log-pipeline sources add ID --domain URL --token-env VAR)\n`);
      return;
    }
    out.write(
      renderTable(
        ['ID', 'LABEL', 'DOMAIN', 'ENABLED', 'AUTH', 'DROP-OFF'],
        sources.map((source) => [
          source.id,
          source.label,
          source.domain,
          source.enabled ? 'yes' : 'no',
          source.auth,
          `${source.dropOffMinutes} min`,
        ]),
      ),
    );
    for (const problem of problems) out.write(`invalid: ${problem.message}\n`);
  } finally {
    deployment.close();
  }
}
