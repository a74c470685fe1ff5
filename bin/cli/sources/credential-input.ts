import { readFileSync } from 'node:fs';
import type { SourceSecretCredential } from '../../../lambdas/contracts/source-secret';
import { SourcesUsageError } from './errors';

/** What `--token-env` or `--oauth-file` provide: the credential part of a source secret. */
export type CredentialFields = SourceSecretCredential<Readonly<Record<string, unknown>>>;

/** A POSIX environment variable name. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Reads the credential named by the flags. The API token comes only from an environment
 * variable: a token given as a flag value would be kept in the shell's history and shown by `ps`.
 * The OAuth file is the secret's `oauth` object as JSON: `{"clientId", "privateKeyPem", "keyId"?, "dpop"?}`.
 * Its fields are checked by `parseSourceSecret` with the rest of the secret; errors here name the
 * flag and the file, never their content.
 */
export function readCredential(tokenEnv: string | undefined, oauthFile: string | undefined, env: NodeJS.ProcessEnv): CredentialFields {
  if ((tokenEnv === undefined) === (oauthFile === undefined)) {
    throw new SourcesUsageError(
      'give exactly one of --token-env VAR (an API token in that environment variable) or --oauth-file FILE (an OAuth service app)',
    );
  }
  if (tokenEnv !== undefined) {
    if (!ENV_NAME.test(tokenEnv)) {
      throw new SourcesUsageError(
        `--token-env takes the NAME of an environment variable that holds the token (e.g. --token-env OKTA_API_TOKEN), got something that is not a variable name`,
      );
    }
    const token = env[tokenEnv];
    if (token === undefined || token.trim() === '') {
      throw new SourcesUsageError(
        `--token-env ${tokenEnv}: the environment variable ${tokenEnv} is not set or empty; export it first (e.g. read -rs ${tokenEnv} && export ${tokenEnv})`,
      );
    }
    return { apiToken: token };
  }
  return { oauth: readOAuthFile(oauthFile as string) };
}

function readOAuthFile(file: string): Readonly<Record<string, unknown>> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new SourcesUsageError(
      `--oauth-file ${file}: cannot read it (${error instanceof Error && 'code' in error ? String(error.code) : 'unreadable'})`,
    );
  }
  const format =
    'it must be JSON: {"clientId": "0oa...", "privateKeyPem": "-----BEGIN PRIVATE KEY-----\\n...", "keyId": "optional kid", "dpop": false}';
  if (text.trimStart().startsWith('-----BEGIN')) throw new SourcesUsageError(`--oauth-file ${file}: this is a PEM key alone; ${format}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The SyntaxError is left out on purpose: V8 quotes the text it failed on, i.e. the private key.
    throw new SourcesUsageError(`--oauth-file ${file}: not valid JSON; ${format}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new SourcesUsageError(`--oauth-file ${file}: ${format}`);
  return parsed as Record<string, unknown>;
}
