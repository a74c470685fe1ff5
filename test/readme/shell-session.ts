/**
 * Plays the shell lines of the docs' onboarding blocks the way an operator types them, against
 * loopback stand-ins: the Okta org emulator, the Secrets Manager server of `local/aws` and
 * dynalite. Only the docs' placeholders are replaced (the example org domain, a `00a...` token,
 * the stack outputs); `okta-log-pipeline` runs as the package's bin in a child process, `jq` and
 * `shred` run for real, and `aws` calls go through the SDK to the same stand-ins. A line this
 * session does not know how to play fails the test: a new kind of command in the docs needs a
 * decision here, not silence.
 */
import { execFile } from 'node:child_process';
import { createPublicKey } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EmulatedOrg } from '../../local/okta-emulator';
import { startOperatorDeployment } from '../support/operator-deployment';
import { REPO_ROOT } from './markdown';

const BIN = join(REPO_ROOT, 'bin', 'okta-log-pipeline.js');
/** The org every example uses; the emulator's origin stands in for it. */
export const EXAMPLE_ORG_DOMAIN = 'https://acme.okta.com';
export const LOCAL_CURSOR_TABLE = 'readme-cursors';
export const SECRET_PREFIX = 'okta-log-pipeline/sources/';
/** The stack outputs the docs read with `aws cloudformation describe-stacks`. */
const STACK_OUTPUTS: Readonly<Record<string, string>> = { CursorTableName: LOCAL_CURSOR_TABLE, SourceSecretPrefix: SECRET_PREFIX };
/** A cap for a hung child, not a timing assertion: each child loads tsx and the AWS SDK. */
const CHILD_TIMEOUT_MS = 60_000;

export interface Played {
  readonly line: string;
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ShellSession {
  /** Plays one logical line (continuations joined, comment stripped). */
  play(line: string): Promise<Played>;
  /** The source ids registered so far, newest last. */
  readonly registered: readonly string[];
  readonly secrets: SecretsManagerClient;
  readonly dynamoDb: DynamoDBClient;
  /** The scratch directory the lines run in (their files: oauth.json, keys). */
  readonly dir: string;
  /** Everything every command printed, to check that no credential appeared. */
  readonly transcript: readonly string[];
  close(): Promise<void>;
}

/** The logical lines of a shell block: `\` continuations joined, comments and blank lines dropped. */
export function shellLines(block: string): string[] {
  return block
    .replace(/\\\n\s*/g, '')
    .split('\n')
    .map(stripComment)
    .filter((line) => line !== '');
}

function stripComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i += 1) {
    const char = line[i]!;
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) {
      return line.slice(0, i).trim();
    }
  }
  return line.trim();
}

/** Splits a command line into words as a POSIX shell would for these lines: quotes, no expansions. */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: string | undefined;
  for (const char of line) {
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else word = (word ?? '') + char;
    } else if (char === '"' || char === "'") {
      quote = char;
      word ??= '';
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + char;
    }
  }
  if (quote !== undefined) throw new Error(`unbalanced ${quote} in: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
}

/**
 * A synopsis line (`sources status [ID] [--json]`) played in full: optional parts included, `ID`
 * the newest registered source. Brackets inside quotes are not synopsis.
 */
function expandSynopsis(words: readonly string[], registered: readonly string[]): string[] {
  const newest = registered[registered.length - 1];
  return words.flatMap((word) => {
    const bare = word.replace(/^\[|\]$/g, '');
    if (bare !== 'ID') return [bare];
    if (newest === undefined) throw new Error('a line names a source ID before any source was registered');
    return [newest];
  });
}

export interface ShellSessionOptions {
  readonly org: EmulatedOrg;
  /** The secret JSON the doc shows for `aws secretsmanager create-secret --secret-string file://...` to read. */
  readonly secretExample?: string;
}

export async function startShellSession(options: ShellSessionOptions): Promise<ShellSession> {
  const { org } = options;
  const deployment = await startOperatorDeployment({ cursorTable: LOCAL_CURSOR_TABLE, dirPrefix: 'readme-session-' });
  const { secrets, dynamoDb, dir } = deployment;
  const transcript: string[] = [];
  const registered: string[] = [];
  // The session's own copy: `export` and `unset` lines change it as a shell would.
  const env: Record<string, string> = { ...deployment.env };

  /** The docs' placeholders: the example domain is the emulated org. */
  const substitute = (text: string): string => text.split(EXAMPLE_ORG_DOMAIN).join(org.origin);

  function spawnPlayed(line: string, file: string, args: readonly string[]): Promise<Played> {
    return new Promise((resolve) => {
      execFile(file, args, { cwd: dir, env, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
        transcript.push(stdout, stderr);
        resolve({ line, code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
      });
    });
  }

  /**
   * The docs show several ways to register one source, as alternatives. Each is played on its own:
   * the previous registration of the id is forgotten first, as if the reader had picked this way.
   */
  async function forgetSecret(sourceId: string): Promise<void> {
    try {
      await secrets.send(new DescribeSecretCommand({ SecretId: `${SECRET_PREFIX}${sourceId}` }));
    } catch {
      return;
    }
    await secrets.send(new DeleteSecretCommand({ SecretId: `${SECRET_PREFIX}${sourceId}`, ForceDeleteWithoutRecovery: true }));
  }

  async function playTool(line: string, words: string[]): Promise<Played> {
    const args = expandSynopsis(words.slice(words[0] === 'npx' ? 2 : 1), registered).map(substitute);
    if (args[0] === 'sources' && args[1] === 'add') {
      const sourceId = args[2] ?? '';
      await forgetSecret(sourceId);
      const oauthFile = args[args.indexOf('--oauth-file') + 1];
      if (args.includes('--oauth-file') && oauthFile !== undefined) {
        const app = JSON.parse(readFileSync(join(dir, oauthFile), 'utf8')) as { clientId: string; privateKeyPem: string; dpop?: boolean };
        // The Okta admin's side of the doc's steps: the org trusts the app's public key.
        org.registerOAuthClient({ clientId: app.clientId, publicKey: createPublicKey(app.privateKeyPem), dpop: app.dpop === true });
      }
      const played = await spawnPlayed(line, process.execPath, [BIN, ...args]);
      if (played.code === 0) registered.push(sourceId);
      return played;
    }
    return spawnPlayed(line, process.execPath, [BIN, ...args]);
  }

  /** `aws secretsmanager create-secret --name N --secret-string file://F [--tags ...]`, through the SDK. */
  async function playCreateSecret(line: string, words: string[]): Promise<Played> {
    const name = words[words.indexOf('--name') + 1] ?? '';
    const source = words[words.indexOf('--secret-string') + 1] ?? '';
    if (!name.startsWith(SECRET_PREFIX) || !source.startsWith('file://')) throw new Error(`cannot play: ${line}`);
    const fileName = source.slice('file://'.length);
    if (options.secretExample === undefined) throw new Error(`the doc never shows the content of ${fileName} (${line})`);
    // The reader writes the doc's example with their org and token in place of the placeholders.
    writeFileSync(join(dir, fileName), substitute(options.secretExample).replace(/"00a\.\.\."/g, JSON.stringify(org.apiToken)));
    const sourceId = name.slice(SECRET_PREFIX.length);
    await forgetSecret(sourceId);
    await secrets.send(new CreateSecretCommand({ Name: name, SecretString: readFileSync(join(dir, fileName), 'utf8') }));
    registered.push(sourceId);
    return { line, code: 0, stdout: '', stderr: '' };
  }

  return {
    registered,
    secrets,
    dynamoDb,
    dir,
    transcript,
    async play(line) {
      const exported = /^export ([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
      if (exported) {
        const [, name = '', value = ''] = exported;
        const output = /^\$\(aws cloudformation describe-stacks .*OutputKey=='([A-Za-z]+)'.*\)$/.exec(value)?.[1];
        if (output !== undefined) {
          const stackOutput = STACK_OUTPUTS[output];
          if (stackOutput === undefined) throw new Error(`no local stand-in for the stack output ${output} (${line})`);
          env[name] = stackOutput;
        } else {
          // `00a...` is where the reader pastes their token.
          env[name] = value.includes('...') ? org.apiToken : shellWords(value).join(' ');
        }
        return { line, code: 0, stdout: '', stderr: '' };
      }
      const readExport = /^read -rs ([A-Z_][A-Z0-9_]*) && export \1$/.exec(line);
      if (readExport) {
        // What the reader types at the silent prompt.
        env[readExport[1]!] = org.apiToken;
        return { line, code: 0, stdout: '', stderr: '' };
      }
      const words = shellWords(line);
      if (words[0] === 'unset' && words.length === 2) {
        delete env[words[1]!];
        return { line, code: 0, stdout: '', stderr: '' };
      }
      if (words[0] === 'okta-log-pipeline' || (words[0] === 'npx' && words[1] === 'okta-log-pipeline')) return playTool(line, words);
      if (words[0] === 'aws' && words[1] === 'secretsmanager' && words[2] === 'create-secret') return playCreateSecret(line, words);
      if (words[0] === 'jq' || words[0] === 'shred' || words[0] === 'openssl') return spawnPlayed(line, 'bash', ['-c', line]);
      throw new Error(`the docs show a line this test cannot play; teach test/readme/shell-session.ts how: ${line}`);
    },
    close: () => deployment.close(),
  };
}
