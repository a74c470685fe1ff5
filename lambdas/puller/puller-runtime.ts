import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AWS_API_HTTP, awsHttpHandler } from '../adapters/aws/http-handler';
import { DynamoDbCursorStore } from '../adapters/aws/dynamodb-cursor-store';
import { KinesisRecordSink } from '../adapters/aws/kinesis-record-sink';
import { S3Quarantine } from '../adapters/aws/s3-quarantine';
import { SecretsManagerSourceRegistry } from '../adapters/aws/secrets-manager-source-registry';
import { systemClock } from '../core/clock';
import type { EmfDocument } from '../core/metrics/emf';
import type { Clock, PullerLogger } from '../core/ports';
import type { PullerDependencies } from '../core/puller/run-puller';
import { sourcePuller } from '../core/puller/source-puller';
import { eventProcessorFor } from '../core/schema';
import { readPullerConfig, type PullerConfig } from './puller-config';

/**
 * Kinesis over HTTP/1.1 with bounded timeouts. HTTP/1.1 works against AWS as well as against
 * kinesalite (which speaks nothing else: with the SDK's default HTTP/2 handler every call fails with
 * "Protocol error"); the SDK's own retries (3 attempts)
 * sit under the sink's retries of failed entries.
 */
export const KINESIS_HTTP = {
  /** A TCP connect to a regional endpoint takes milliseconds; three seconds means it is not coming. */
  connectionTimeoutMs: 3_000,
  /** One PutRecords of up to 5 MiB; ten seconds is generous and still small against the run budget. */
  requestTimeoutMs: 10_000,
} as const;

export interface PullerRuntimeOptions {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly logger: PullerLogger;
  /** Where the run's EMF documents go (`lambdaTelemetry` in the Lambda). */
  readonly emitMetrics: (document: EmfDocument) => void;
  readonly clock?: Clock;
  /**
   * Accept loopback Okta domains. Never set for the deployed Lambda (the stack cannot set it:
   * it is not read from the environment); the demo and the integration tests set it.
   */
  readonly allowLoopback?: boolean;
}

export interface PullerRuntime {
  readonly config: PullerConfig;
  readonly deps: PullerDependencies;
  /** Closes the SDK clients' sockets (the demo and tests; a Lambda container just freezes). */
  destroy(): void;
}

/**
 * Builds everything a run needs from the environment, once per container: SDK clients (their
 * endpoints follow `AWS_ENDPOINT_URL_*`, so the same code runs against the local stand-ins), the
 * adapters, and the pull core wired to them.
 */
export function createPullerRuntime(options: PullerRuntimeOptions): PullerRuntime {
  const config = readPullerConfig(options.env);
  const clock = options.clock ?? systemClock;
  const allowLoopback = options.allowLoopback === true;
  const secretsManager = new SecretsManagerClient({ requestHandler: awsHttpHandler(AWS_API_HTTP) });
  const dynamoDb = new DynamoDBClient({ requestHandler: awsHttpHandler(AWS_API_HTTP) });
  const kinesis = new KinesisClient({ requestHandler: awsHttpHandler(KINESIS_HTTP) });
  // Path-style only when pointed at a stand-in: its loopback address cannot take bucket subdomains.
  const s3 = new S3Client({ forcePathStyle: options.env.AWS_ENDPOINT_URL_S3 !== undefined, requestHandler: awsHttpHandler(AWS_API_HTTP) });

  const cursors = new DynamoDbCursorStore({ client: dynamoDb, tableName: config.cursorTableName, clock });
  const registry = new SecretsManagerSourceRegistry({
    client: secretsManager,
    prefix: config.sourceSecretPrefix,
    clock,
    cacheTtlMs: config.secretCacheMs,
    allowLoopback,
  });
  const pull = sourcePuller(
    {
      cursors,
      sink: new KinesisRecordSink({ client: kinesis, streamName: config.streamName, clock }),
      quarantine: new S3Quarantine({ client: s3, bucketName: config.quarantineBucketName }),
      processor: eventProcessorFor('Okta.SystemLog'),
      clock,
    },
    { clock, allowLoopback, limits: { rateLimitReservePercent: config.rateLimitReservePercent } },
  );
  return {
    config,
    deps: {
      registry,
      activity: cursors,
      pull,
      clock,
      logger: options.logger,
      emitMetrics: options.emitMetrics,
    },
    destroy() {
      for (const client of [secretsManager, dynamoDb, kinesis, s3]) client.destroy();
    },
  };
}
