/**
 * Runs the real `okta-log-pipeline sources` command as a child process against loopback
 * stand-ins: the Secrets Manager server and dynalite of `local/aws`, and the Okta org emulator.
 * The child is spawned asynchronously so the emulators, which live in this process, keep serving.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SecretsManagerServer } from '../../local/aws/secrets-manager-server';
import { startOperatorDeployment } from '../support/operator-deployment';

const BIN = resolve(__dirname, '../../bin/okta-log-pipeline.js');
export const CURSOR_TABLE = 'okta-log-pipeline-cursors';
export const PREFIX = 'okta-log-pipeline/sources/';
/**
 * A cap, not a timing assertion: a hung child must fail the test rather than the whole run.
 * Generous because CI shares two cores with other suites and each child loads the AWS SDK.
 */
const CHILD_TIMEOUT_MS = 120_000;
/** Per test: each spawns the command several times in sequence. */
export const MANY_RUNS_TEST_TIMEOUT_MS = 300_000;

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface SourcesHarness {
  readonly secretsManager: SecretsManagerServer;
  readonly secrets: SecretsManagerClient;
  readonly dynamoDb: DynamoDBClient;
  /** A scratch directory for files the commands read (OAuth files). */
  readonly dir: string;
  /** Every stdout and stderr of every run so far, to check that no credential ever appeared. */
  readonly transcript: string[];
  run(args: readonly string[], env?: Readonly<Record<string, string>>): Promise<CliResult>;
  close(): Promise<void>;
}

export async function startSourcesHarness(): Promise<SourcesHarness> {
  const deployment = await startOperatorDeployment({ cursorTable: CURSOR_TABLE, dirPrefix: 'sources-cli-' });
  const transcript: string[] = [];
  return {
    secretsManager: deployment.secretsManager,
    secrets: deployment.secrets,
    dynamoDb: deployment.dynamoDb,
    dir: deployment.dir,
    transcript,
    run(args, env = {}) {
      return new Promise((resolveRun) => {
        execFile(
          process.execPath,
          [BIN, 'sources', ...args],
          { env: { ...deployment.env, ...env }, timeout: CHILD_TIMEOUT_MS },
          (error, stdout, stderr) => {
            transcript.push(stdout, stderr);
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
            resolveRun({ code, stdout, stderr });
          },
        );
      });
    },
    close: () => deployment.close(),
  };
}
