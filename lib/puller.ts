import { ArnFormat, Duration, Stack } from 'aws-cdk-lib';
import { Rule, RuleTargetInput, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Stats, type IMetric, type Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BucketGrants, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MAX_PULLER_SHARDS, type PullerShard } from '../lambdas/core/puller/shard';
import type { PullerRunMetricName, SourceMetricName } from '../lambdas/core/metrics/metric-names';
import { CONTEXT_DEFAULTS, type LogLevel } from './config';
import { globalMetric, perSourceQuery, sourceMetric, type InsightsFunction } from './metrics';
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
  readonly logLevel?: LogLevel;
}

/** Options of the puller's per-source metrics. */
export interface SourceMetricOptions {
  /**
   * One source's series.
   * @default - one series per source: a Metrics Insights query over `SCHEMA(namespace, SourceId)`
   * GROUP BY SourceId, so a source onboarded later is included without a redeploy
   */
  readonly sourceId?: string;
  /** @default Duration.minutes(5) */
  readonly period?: Duration;
  /** @default - CloudWatch's label (for the GROUP BY query, each series is named by its SourceId) */
  readonly label?: string;
}

const DEFAULT_METRIC_PERIOD = Duration.minutes(5);

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
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? CONTEXT_DEFAULTS.logLevel,
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
    // Sources are secrets created after the deploy (`okta-log-pipeline sources add`) under the
    // prefix, so there is no Secret construct to call grantRead on: an imported one
    // (Secret.fromSecretNameV2) names a single secret, and grantRead would add
    // secretsmanager:DescribeSecret, which the puller never calls. The statement is written here
    // instead, scoped to the prefix. No key grant: the CLI creates the secrets under the default
    // aws/secretsmanager key, whose key policy lets the account's principals decrypt through
    // Secrets Manager (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html).
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [sourceSecrets] }));
    // ListSecrets cannot be scoped to resources; it returns names and metadata, never values.
    role.addToPolicy(new PolicyStatement({ actions: ['secretsmanager:ListSecrets'], resources: ['*'] }));
    // The grants below name the resource through its construct, so they follow it (and its
    // key, where a customer key would need one) instead of restating its ARN. Each grants only
    // the calls the adapters make (test/infra/authorization/api-calls.ts); the wider canned grants
    // (grantReadWriteData, grantWrite, grants.put) would add actions the puller must not have.
    // The cursor store reads cursors in batches and writes them only with conditional updates.
    props.cursorTable.grant(role, 'dynamodb:BatchGetItem', 'dynamodb:UpdateItem');
    props.stream.grant(role, 'kinesis:PutRecords');
    // Producers of a stream under a customer key need kms:GenerateDataKey
    // (https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html); under the
    // AWS-managed aws/kinesis key (this stack's) there is no key object and nothing to grant.
    props.stream.encryptionKey?.grant(role, 'kms:GenerateDataKey');
    const quarantineObjects = props.quarantineBucket.arnForObjects('*');
    // kms: actions go to the bucket's key when it has one (SSE-KMS uploads need
    // kms:GenerateDataKey, https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html);
    // the SSE-S3 quarantine has none.
    BucketGrants.fromBucket(props.quarantineBucket).actionsOnObjectKeys(role, '*', 's3:PutObject', 'kms:GenerateDataKey');
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

  /** 1 while a source has delivered no events for longer than its dropOffMinutes, else 0 (emitted every run): MAX. */
  metricDropOffBreached(options: SourceMetricOptions = {}): IMetric {
    return this.perSource('MAX', 'DropOffBreached', options);
  }

  /** Credentials Okta rejected (401/403), per source (emitted only when non-zero): SUM. */
  metricAuthFailures(options: SourceMetricOptions = {}): IMetric {
    return this.perSource('SUM', 'AuthFailures', options);
  }

  /** Paging loops the puller stopped a source for (emitted only when non-zero): SUM. */
  metricPagingLoops(options: SourceMetricOptions = {}): IMetric {
    return this.perSource('SUM', 'PagingLoops', options);
  }

  /** Events that failed validation and went to the quarantine bucket, per source (emitted only when non-zero): SUM. */
  metricEventsInvalid(options: SourceMetricOptions = {}): IMetric {
    return this.perSource('SUM', 'EventsInvalid', options);
  }

  /**
   * One of the run totals, published without dimensions.
   * @default statistic SUM, period 5 minutes
   */
  metricRunTotal(metric: PullerRunMetricName, options: MetricOptions = {}): Metric {
    return globalMetric(metric, options.statistic ?? Stats.SUM, options.period ?? DEFAULT_METRIC_PERIOD).with(options);
  }

  private perSource(fn: Extract<InsightsFunction, 'MAX' | 'SUM'>, metric: SourceMetricName, options: SourceMetricOptions): IMetric {
    const period = options.period ?? DEFAULT_METRIC_PERIOD;
    if (options.sourceId === undefined) return perSourceQuery(fn, metric, period, options.label);
    return sourceMetric(metric, options.sourceId, fn === 'MAX' ? Stats.MAXIMUM : Stats.SUM, period).with({ label: options.label });
  }
}
