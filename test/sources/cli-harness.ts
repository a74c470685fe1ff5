/**
 * Runs the real `okta-log-pipeline sources` command as a child process against loopback
 * stand-ins: the Secrets Manager server and dynalite of `local/aws`, and the Okta org emulator.
 * The child is spawned asynchronously so the emulators, which live in this process, keep serving.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createCursorTable, localDynamoDbClient, startDynalite } from '../../local/aws/dynamodb';
import type { LoopbackServer } from '../../local/aws/listen';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/aws/secrets-manager-server';

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
  const secretsManager = await startSecretsManagerServer({ region: LOCAL_REGION });
  const dynalite: LoopbackServer = await startDynalite();
  const dynamoDb = localDynamoDbClient(dynalite.endpoint);
  await createCursorTable(dynamoDb, CURSOR_TABLE);
  const secrets = new SecretsManagerClient({ endpoint: secretsManager.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const dir = mkdtempSync(join(tmpdir(), 'sources-cli-'));
  const transcript: string[] = [];
  // Only what the command needs: nothing of the developer's own AWS profile can leak in.
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: dir,
    AWS_REGION: LOCAL_REGION,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '1',
  };
  return {
    secretsManager,
    secrets,
    dynamoDb,
    dir,
    transcript,
    run(args, env = {}) {
      return new Promise((resolveRun) => {
        execFile(process.execPath, [BIN, 'sources', ...args], { env: { ...baseEnv, ...env }, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
          transcript.push(stdout, stderr);
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
          resolveRun({ code, stdout, stderr });
        });
      });
    },
    async close() {
      secrets.destroy();
      dynamoDb.destroy();
      await Promise.all([secretsManager.close(), dynalite.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
