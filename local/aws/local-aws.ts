import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { KinesisClient } from '@aws-sdk/client-kinesis';
import type { Clock } from '../../lambdas/core/ports';
import { createCursorTable, localDynamoDbClient, startDynalite } from './dynamodb';
import { startFaultProxy, type FaultProxy } from './fault-proxy';
import { createStream, localKinesisClient, startKinesalite } from './kinesis';
import type { LoopbackServer } from './listen';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-credentials';
import { startS3Server, type S3Server } from './s3-server';
import { startSecretsManagerServer, type SecretsManagerServer } from './secrets-manager-server';

export interface LocalAwsOptions {
  readonly clock?: Clock;
  /** Back Secrets Manager with this file (see `startSecretsManagerServer`). */
  readonly secretsFile?: string;
  readonly secretsListPageLimit?: number;
  readonly streamShards?: number;
}

/** The resource names the stack would create, used for the local run as well. */
export const LOCAL_RESOURCE_NAMES = {
  streamName: 'okta-log-pipeline-events',
  cursorTableName: 'okta-log-pipeline-cursors',
  quarantineBucketName: 'okta-log-pipeline-quarantine',
  sourceSecretPrefix: 'okta-log-pipeline/sources/',
} as const;

/**
 * Everything the puller talks to in AWS, on loopback: Secrets Manager and S3 (ours), kinesalite
 * and dynalite behind fault proxies, with the stream, table and bucket created. `env` is what
 * the puller handler reads (`AWS_ENDPOINT_URL_*`, names, dummy credentials), so the real
 * handler and the real SDK clients run unchanged against it.
 */
export interface LocalAws {
  readonly secretsManager: SecretsManagerServer;
  readonly s3: S3Server;
  /** In front of kinesalite: arm Kinesis faults here. */
  readonly kinesisProxy: FaultProxy;
  /** In front of dynalite: arm DynamoDB faults here. */
  readonly dynamoDbProxy: FaultProxy;
  readonly names: typeof LOCAL_RESOURCE_NAMES;
  readonly env: Record<string, string>;
  /** Clients straight to the emulators (not through the proxies), for setup and assertions. */
  readonly clients: { kinesis: KinesisClient; dynamoDb: DynamoDBClient; secretsManager: SecretsManagerClient; s3: S3Client };
  close(): Promise<void>;
}

export async function startLocalAws(options: LocalAwsOptions = {}): Promise<LocalAws> {
  const started: LoopbackServer[] = [];
  const track = <T extends LoopbackServer>(server: T): T => {
    started.push(server);
    return server;
  };
  try {
    const kinesalite = track(await startKinesalite());
    const dynalite = track(await startDynalite());
    const kinesisProxy = track(await startFaultProxy(kinesalite.endpoint));
    const dynamoDbProxy = track(await startFaultProxy(dynalite.endpoint));
    const secretsManager = track(
      await startSecretsManagerServer({
        clock: options.clock,
        file: options.secretsFile,
        listPageLimit: options.secretsListPageLimit,
        region: LOCAL_REGION,
      }),
    );
    const s3 = track(await startS3Server({ buckets: [LOCAL_RESOURCE_NAMES.quarantineBucketName], clock: options.clock }));

    const clients = {
      kinesis: localKinesisClient(kinesalite.endpoint),
      dynamoDb: localDynamoDbClient(dynalite.endpoint),
      secretsManager: new SecretsManagerClient({ endpoint: secretsManager.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }),
      s3: new S3Client({ endpoint: s3.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, forcePathStyle: true }),
    };
    await createStream(clients.kinesis, LOCAL_RESOURCE_NAMES.streamName, options.streamShards ?? 1);
    await createCursorTable(clients.dynamoDb, LOCAL_RESOURCE_NAMES.cursorTableName);

    const env: Record<string, string> = {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_KINESIS: kinesisProxy.endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: dynamoDbProxy.endpoint,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsManager.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      SOURCE_SECRET_PREFIX: LOCAL_RESOURCE_NAMES.sourceSecretPrefix,
      CURSOR_TABLE_NAME: LOCAL_RESOURCE_NAMES.cursorTableName,
      STREAM_NAME: LOCAL_RESOURCE_NAMES.streamName,
      QUARANTINE_BUCKET_NAME: LOCAL_RESOURCE_NAMES.quarantineBucketName,
    };
    return {
      secretsManager,
      s3,
      kinesisProxy,
      dynamoDbProxy,
      names: LOCAL_RESOURCE_NAMES,
      env,
      clients,
      async close() {
        for (const client of Object.values(clients)) client.destroy();
        await Promise.all(started.map((server) => server.close()));
      },
    };
  } catch (error) {
    await Promise.allSettled(started.map((server) => server.close()));
    throw error;
  }
}
