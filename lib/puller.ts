import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MAX_PULLER_SHARDS, type PullerShard } from '../lambdas/core/puller/shard';
import { CONTEXT_DEFAULTS } from './config';
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
   * Puller invocations a minute; each gets `{"shard": i, "shards": N}` and pulls the sources whose
   * id hashes to shard i (1 to `MAX_PULLER_SHARDS`).
   * @default 1
   */
  readonly shards?: number;
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
 * EventBridge allows at most 5 targets per rule, not adjustable ("Targets per rule",
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html), so shards are spread
 * over rules of up to this many targets.
 */
export const SCHEDULE_TARGETS_PER_RULE = 5;

/**
 * The puller Lambda and the one-minute schedule that runs it (once per shard), with exactly the
 * permissions it needs: read the source secrets under the prefix, write to the stream, keep
 * cursors, quarantine.
 */
export class Puller extends Construct {
  readonly function: IFunction;
  /** The function's log group: its per-source log lines feed the dashboard's Logs Insights tables. */
  readonly logGroup: ILogGroup;
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
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
      },
    });
    this.function = pipelineFunction.function;
    this.logGroup = pipelineFunction.function.logGroup;
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

    const shards = props.shards ?? CONTEXT_DEFAULTS.pullerShards;
    if (!Number.isInteger(shards) || shards < 1 || shards > MAX_PULLER_SHARDS) {
      throw new RangeError(`Puller ${this.node.path}: shards must be a whole number from 1 to ${MAX_PULLER_SHARDS}, got ${shards}`);
    }
    const assignments: PullerShard[] = Array.from({ length: shards }, (_, index) => ({ index, count: shards }));
    for (let first = 0; first < shards; first += SCHEDULE_TARGETS_PER_RULE) {
      const group = assignments.slice(first, first + SCHEDULE_TARGETS_PER_RULE);
      // The first rule keeps the id it had before sharding, so that an upgrade updates it in place.
      const id = first === 0 ? 'Schedule' : `Schedule${first / SCHEDULE_TARGETS_PER_RULE + 1}`;
      new Rule(this, id, {
        description:
          shards === 1
            ? 'Runs the okta-log-pipeline puller every minute'
            : `Runs the okta-log-pipeline puller every minute, shards ${first}-${first + group.length - 1} of ${shards}`,
        schedule: Schedule.rate(Duration.minutes(1)),
        targets: group.map(
          (shard) =>
            new LambdaFunction(this.function, {
              // The handler's parsePullerInput reads exactly these two keys.
              event: RuleTargetInput.fromObject({ shard: shard.index, shards: shard.count }),
              // EventBridge's own delivery retries (throttled invokes) likewise: a missed minute is
              // made up by the next run, a late delivery would only overlap it.
              retryAttempts: 0,
              maxEventAge: Duration.minutes(1),
            }),
        ),
      });
    }
  }
}
