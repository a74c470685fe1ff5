import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { CONTEXT_DEFAULTS } from './config';
import { METRICS_NAMESPACE } from './metrics';
import { acknowledgeWildcardResource } from './nag';
import { PipelineFunction } from './pipeline-function';

export interface PullerProps {
  readonly stream: IStream;
  readonly cursorTable: ITable;
  readonly quarantineBucket: IBucket;
  /**
   * Secrets named `<prefix><sourceId>` are the sources.
   * @default 'okta-log-pipeline/sources/'
   */
  readonly sourceSecretPrefix?: string;
  /**
   * @default 256
   */
  readonly memorySizeMb?: number;
  /**
   * @default Duration.seconds(90)
   */
  readonly timeout?: Duration;
  /**
   * The run stops fetching new pages after this long, then saves its cursors.
   * @default Duration.seconds(55)
   */
  readonly runBudget?: Duration;
  /**
   * Percent of each org's rate limit left for other integrations.
   * @default 20
   */
  readonly rateLimitReservePercent?: number;
  /**
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
  /**
   * Powertools log level.
   * @default 'INFO'
   */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * The puller Lambda and the one-minute schedule that runs it, with exactly the permissions it
 * needs: read the source secrets under the prefix, write to the stream, keep cursors, quarantine.
 */
export class Puller extends Construct {
  readonly function: IFunction;
  readonly sourceSecretPrefix: string;

  constructor(scope: Construct, id: string, props: PullerProps) {
    super(scope, id);
    this.sourceSecretPrefix = props.sourceSecretPrefix ?? CONTEXT_DEFAULTS.sourceSecretPrefix;
    const runBudget = props.runBudget ?? Duration.seconds(CONTEXT_DEFAULTS.runBudgetSeconds);
    const pipelineFunction = new PipelineFunction(this, 'Puller', {
      entry: 'lambdas/puller/handler.ts',
      description: 'Pulls Okta System Log events of every source into Kinesis (okta-log-pipeline)',
      memorySizeMb: props.memorySizeMb ?? CONTEXT_DEFAULTS.pullerMemoryMb,
      timeout: props.timeout ?? Duration.seconds(CONTEXT_DEFAULTS.pullerTimeoutSeconds),
      logRetention: props.logRetention ?? CONTEXT_DEFAULTS.logRetentionDays,
      environment: {
        SOURCE_SECRET_PREFIX: this.sourceSecretPrefix,
        CURSOR_TABLE_NAME: props.cursorTable.tableName,
        STREAM_NAME: props.stream.streamName,
        QUARANTINE_BUCKET_NAME: props.quarantineBucket.bucketName,
        RUN_BUDGET_SECONDS: String(runBudget.toSeconds()),
        RATE_LIMIT_RESERVE_PERCENT: String(props.rateLimitReservePercent ?? CONTEXT_DEFAULTS.rateLimitReservePercent),
        POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-puller',
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      },
    });
    this.function = pipelineFunction.function;
    // Lambda retries a failed asynchronous invocation twice by default; for a puller that runs
    // every minute a retry only overlaps the next scheduled run, which resumes from the cursor.
    this.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
    const role = pipelineFunction.role;

    const sourceSecrets = Stack.of(this).formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      // Secrets Manager appends "-" and six random characters to every secret ARN.
      resourceName: `${this.sourceSecretPrefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [sourceSecrets] }));
    // ListSecrets cannot be scoped to resources; it returns names and metadata, never values.
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    role.addToPolicy(
      new PolicyStatement({
        // The cursor store reads cursors in batches and writes them only with conditional updates.
        actions: ['dynamodb:BatchGetItem', 'dynamodb:UpdateItem'],
        resources: [props.cursorTable.tableArn],
      }),
    );
    role.addToPolicy(new PolicyStatement({ actions: ['kinesis:PutRecords'], resources: [props.stream.streamArn] }));
    const quarantineObjects = props.quarantineBucket.arnForObjects('*');
    role.addToPolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [quarantineObjects] }));
    acknowledgeWildcardResource(
      role,
      sourceSecrets,
      'A source is onboarded by creating a secret under the prefix, without a redeploy, so the names are not known at deploy time; the wildcard covers only the prefix (and the random suffix Secrets Manager adds).',
    );
    acknowledgeWildcardResource(
      role,
      '*',
      'secretsmanager:ListSecrets does not support resource-level permissions; it returns names and metadata, never secret values.',
    );
    acknowledgeWildcardResource(
      role,
      quarantineObjects,
      'One object per quarantined event under keys chosen at run time; the statement allows only s3:PutObject, only in the quarantine bucket.',
    );

    new Rule(this, 'Schedule', {
      description: 'Runs the okta-log-pipeline puller every minute',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.function, {
          // EventBridge's own delivery retries (throttled invokes) likewise: a missed minute is
          // made up by the next run, a late delivery would only overlap it.
          retryAttempts: 0,
          maxEventAge: Duration.minutes(1),
        }),
      ],
    });
  }
}
