/**
 * `okta-log-pipeline sources add|list|status|enable|disable|remove`: onboarding, inspecting and
 * offboarding Okta orgs of a deployed pipeline, against the AWS account of the standard AWS
 * environment. One source is one Secrets Manager secret (docs/ONBOARDING.md); its cursor is one item of
 * the cursor table.
 */
import { addSource } from './sources/add';
import { setSourceEnabled } from './sources/enable';
import { SourcesCommandError, SourcesUsageError } from './sources/errors';
import { listSources } from './sources/list';
import { removeSource } from './sources/remove';
import { SOURCES_ENV } from './sources/settings';
import { showStatus } from './sources/status';
import { stripControlCharacters } from '../../lambdas/core/okta/org-text';

const USAGE = `usage: okta-log-pipeline sources <subcommand> [options]
  add ID --domain URL (--token-env VAR | --oauth-file FILE) [--label TEXT] [--drop-off-minutes N]
         [--backfill-hours N] [--custom-domain] [--update]
      Validates the source, makes one request to the org's System Log with the credential, and
      only if Okta accepts it creates the secret <prefix>ID (tagged okta-log-pipeline:source-id).
      --token-env VAR     name of the environment variable holding the API token (never the token itself)
      --oauth-file FILE   JSON of an OAuth service app: {"clientId", "privateKeyPem", "keyId"?, "dpop"?}
      --custom-domain     allow a domain that is not *.okta.com, *.oktapreview.com, *.okta-emea.com, ...
      --update            replace the whole secret of an existing source (give every option again);
                          its cursor is kept unless --domain moves it to another org
  list [--json]           id, label, domain, enabled, auth kind and drop-off of every source; invalid secrets
  status [ID] [--json]    cursor age, lag, last event, drop-off verdict, last error and lease holder
  disable ID | enable ID  sets "enabled" in the secret: the puller skips / resumes the source
  remove ID [--now] [--delete-cursor]
      Deletes the secret (7-day recovery window; --now: without recovery). The cursor item is kept so
      that adding ID again resumes where it stopped; --delete-cursor deletes it too.
Every subcommand takes:
  --prefix PREFIX   secret name prefix (default $${SOURCES_ENV.secretPrefix}, else okta-log-pipeline/sources/)
  --table NAME      cursor table (default $${SOURCES_ENV.cursorTable}); needed by status and remove --delete-cursor
  Both are outputs of the deployed stack (SourceSecretPrefix, CursorTableName):
  aws cloudformation describe-stacks --stack-name OktaLogPipeline --query "Stacks[0].Outputs"
Region and credentials come from the standard AWS environment (AWS_REGION, AWS_PROFILE, ...).
Exit status: 0 done, 1 the operation failed or was refused, 2 usage error.`;

type Subcommand = (args: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream) => Promise<void>;

const SUBCOMMANDS: Readonly<Record<string, Subcommand>> = {
  add: addSource,
  list: listSources,
  status: showStatus,
  enable: (args, env, out) => setSourceEnabled(args, env, out, true),
  disable: (args, env, out) => setSourceEnabled(args, env, out, false),
  remove: removeSource,
};

export default async function sources(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (name === undefined || name === '--help' || name === '-h' || rest.includes('--help') || rest.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  // Own keys only: `constructor` or `toString` would otherwise find Object.prototype's functions.
  const run = Object.hasOwn(SUBCOMMANDS, name) ? SUBCOMMANDS[name] : undefined;
  if (run === undefined) {
    process.stderr.write(
      `okta-log-pipeline sources: unknown subcommand "${name}" (one of ${Object.keys(SUBCOMMANDS).join(', ')}; see --help)\n`,
    );
    return 2;
  }
  try {
    await run(rest, process.env, process.stdout);
    return 0;
  } catch (error) {
    if (error instanceof SourcesUsageError) {
      process.stderr.write(`okta-log-pipeline sources ${name}: ${oneLine(error.message)} (see --help)\n`);
      return 2;
    }
    if (error instanceof SourcesCommandError) {
      process.stderr.write(`okta-log-pipeline sources ${name}: ${oneLine(error.message)}\n`);
      return 1;
    }
    // An AWS SDK error outside our wrappers (e.g. no region or credentials configured): still one line.
    const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    process.stderr.write(`okta-log-pipeline sources ${name}: ${oneLine(message)}\n`);
    return 1;
  }
}

/** One terminal-safe line: an error may quote what an org sent (escape sequences included). */
function oneLine(text: string): string {
  return stripControlCharacters(text.replace(/\s*\n\s*/g, ' '));
}
