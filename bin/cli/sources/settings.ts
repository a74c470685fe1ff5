import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerSourceRegistry } from '../../../lambdas/adapters/aws/secrets-manager-source-registry';
import { systemClock } from '../../../lambdas/core/clock';
import type { SourceConfig, SourceProblem } from '../../../lambdas/core/ports';
import { DEFAULT_SOURCE_SECRET_PREFIX } from '../../../lambdas/puller/puller-config';
import type { ParsedArgs } from './args';
import { SourcesCommandError, SourcesUsageError } from './errors';

/** Environment variables that stand in for `--prefix` and `--table`, so a shell can be set up once per deployment. */
export const SOURCES_ENV = {
  secretPrefix: 'OKTA_LOG_PIPELINE_SECRET_PREFIX',
  cursorTable: 'OKTA_LOG_PIPELINE_CURSOR_TABLE',
  allowLoopback: 'OKTA_LOG_PIPELINE_ALLOW_LOOPBACK',
} as const;

/** The flags every subcommand takes to find the deployment. */
export const DEPLOYMENT_FLAGS = ['--prefix', '--table'] as const;

/** How to read the deployed stack's outputs; printed when the table name is missing. */
const TABLE_HINT =
  `pass --table NAME or set ${SOURCES_ENV.cursorTable}; the name is the stack output CursorTableName: ` +
  `aws cloudformation describe-stacks --stack-name OktaLogPipeline --query "Stacks[0].Outputs[?OutputKey=='CursorTableName'].OutputValue" --output text`;

/**
 * Where the deployment keeps its sources, and the clients to reach it. Region, credentials and
 * endpoints come from the standard AWS environment (`AWS_REGION`, `AWS_PROFILE`,
 * `AWS_ENDPOINT_URL_SECRETS_MANAGER`, ...), exactly as the AWS CLI reads them.
 */
export interface Deployment {
  readonly prefix: string;
  readonly secretsManager: SecretsManagerClient;
  /** The cursor table's name and client; throws a usage error naming how to find it when unknown. */
  cursorTable(): { readonly name: string; readonly client: DynamoDBClient };
  /** True when a cursor table was given (flag or environment). */
  readonly hasCursorTable: boolean;
  /** Loopback org domains are allowed (tests and the demo only). */
  readonly allowLoopback: boolean;
  close(): void;
}

export function openDeployment(args: ParsedArgs, env: NodeJS.ProcessEnv): Deployment {
  const prefix = args.value('--prefix') ?? nonEmpty(env[SOURCES_ENV.secretPrefix]) ?? DEFAULT_SOURCE_SECRET_PREFIX;
  if (/\s/.test(prefix)) throw new SourcesUsageError(`--prefix must not contain spaces, got ${JSON.stringify(prefix)}`);
  const tableName = args.value('--table') ?? nonEmpty(env[SOURCES_ENV.cursorTable]);
  const secretsManager = new SecretsManagerClient({});
  let dynamoDb: DynamoDBClient | undefined;
  return {
    prefix,
    secretsManager,
    hasCursorTable: tableName !== undefined,
    allowLoopback: env[SOURCES_ENV.allowLoopback] === '1',
    cursorTable() {
      if (tableName === undefined) throw new SourcesUsageError(`the cursor table is not known: ${TABLE_HINT}`);
      dynamoDb ??= new DynamoDBClient({});
      return { name: tableName, client: dynamoDb };
    },
    close() {
      secretsManager.destroy();
      dynamoDb?.destroy();
    },
  };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Every source secret under the deployment's prefix, read and validated exactly as the puller's
 * registry does, so an invalid secret shows with the same message the puller logs.
 */
export async function listRegisteredSources(deployment: Deployment): Promise<{ sources: SourceConfig[]; problems: SourceProblem[] }> {
  const registry = new SecretsManagerSourceRegistry({
    client: deployment.secretsManager,
    prefix: deployment.prefix,
    clock: systemClock,
    allowLoopback: deployment.allowLoopback,
  });
  try {
    return await registry.list();
  } catch (error) {
    throw new SourcesCommandError(error instanceof Error ? error.message : String(error), { cause: error });
  }
}
