/**
 * A deployment as an operator's shell sees it, on loopback: the Secrets Manager server and
 * dynalite of `local/aws` (with the cursor table created), SDK clients for the test's own checks,
 * a scratch directory, and the environment a child `okta-log-pipeline` needs to reach them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createCursorTable, localDynamoDbClient, startDynalite } from '../../local/aws/dynamodb';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/aws/secrets-manager-server';

export interface OperatorDeployment {
  readonly secretsManager: SecretsManagerServer;
  readonly secrets: SecretsManagerClient;
  readonly dynamoDb: DynamoDBClient;
  /** A scratch directory (the child's HOME and working files), removed by `close`. */
  readonly dir: string;
  /** The whole environment of a child command: nothing of the developer's own AWS profile leaks in. */
  readonly env: Readonly<Record<string, string>>;
  close(): Promise<void>;
}

export async function startOperatorDeployment(options: { cursorTable: string; dirPrefix: string }): Promise<OperatorDeployment> {
  const secretsManager = await startSecretsManagerServer({ region: LOCAL_REGION });
  const dynalite = await startDynalite();
  const dynamoDb = localDynamoDbClient(dynalite.endpoint);
  await createCursorTable(dynamoDb, options.cursorTable);
  const secrets = new SecretsManagerClient({ endpoint: secretsManager.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const dir = mkdtempSync(join(tmpdir(), options.dirPrefix));
  const env = {
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
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
  };
  return {
    secretsManager,
    secrets,
    dynamoDb,
    dir,
    env,
    async close() {
      secrets.destroy();
      dynamoDb.destroy();
      await Promise.all([secretsManager.close(), dynalite.close()]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
