import { ArnFormat, Aws, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import { Metric, type MetricOptions } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnDeliveryStream } from 'aws-cdk-lib/aws-kinesisfirehose';
import { LogGroup, LogStream, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, BucketGrants, ObjectOwnership, StorageClass, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import {
  ARCHIVE_ERROR_PREFIX,
  ARCHIVE_FIREHOSE_PREFIX,
  ARCHIVE_PARTITION_JQ,
  ARCHIVE_PARTITION_KEY as dt,
  ARCHIVE_TABLE,
} from '../lambdas/core/archive/layout';
import { tableNameOf } from '../schemas/compiler/archive-table';
import { loadSavedQueries, type SavedQuery } from '../schemas/queries/saved-queries';
import { CONTEXT_DEFAULTS } from './config';
import { acknowledgeWildcardResource } from './nag';

export interface ArchiveProps {
  /** The event stream Firehose reads. */
  readonly stream: IStream;
  /**
   * Archived objects are deleted this long after they are written.
   * @default Duration.days(400)
   */
  readonly retention?: Duration;
  /**
   * Retention of Firehose's error log group.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly logRetention?: RetentionDays;
}

/** How the archive is written and read; every value with its reason. */
export const ARCHIVE_SETTINGS = {
  // Objects move to S3 Glacier Instant Retrieval after this: a third of Standard-IA's storage price,
  // still read in milliseconds by Athena. Investigations mostly look at the last few weeks.
  transitionAfter: Duration.days(30),
  // Firehose's buffer: five minutes of records per partition in one object. With dynamic
  // partitioning the end-to-end delay can reach 1.5x this
  // (https://docs.aws.amazon.com/firehose/latest/dev/buffering.html), under the 15-minute
  // freshness alarm; 64 MiB is the smallest buffer dynamic partitioning accepts.
  bufferingInterval: Duration.minutes(5),
  bufferingSize: Size.mebibytes(64),
  // Firehose retries a failing S3 prefix this long before it writes the records under the error
  // prefix (the delivery alarms page long before).
  partitionRetry: Duration.hours(2),
  // The first day the table's partition projection knows (see the Glue table below).
  projectionStart: '2020-01-01',
  // Query results hold the same personal data as the archive, and are re-run rather than kept.
  resultsExpiration: Duration.days(30),
  // A query that forgets its dt range would scan the whole archive; Athena stops it here (about $0.50 at $5 per TB).
  bytesScannedCutoffPerQuery: Size.gibibytes(100),
} as const;

/**
 * The long-term archive of every record of the stream, and SQL over it:
 * Amazon Data Firehose reads the Kinesis stream and writes gzip NDJSON to an S3 bucket partitioned
 * by event date (lambdas/core/archive/layout.ts); a Glue table generated from the YAML schema
 * (schemas/generated/archive-tables.json) describes it, with partition projection instead of a
 * crawler; an Athena workgroup with encrypted results holds the saved investigation queries.
 */
export class Archive extends Construct {
  readonly bucket: IBucket;
  readonly deliveryStreamName: string;
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName: string;

  constructor(scope: Construct, id: string, props: ArchiveProps) {
    super(scope, id);
    const retention = props.retention ?? Duration.days(CONTEXT_DEFAULTS.archiveRetentionDays);
    const stack = Stack.of(this);

    const accessLogs = new Bucket(this, 'AccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: retention }],
    });
    const bucket = new Bucket(this, 'Bucket', {
      // SSE-S3, as the quarantine: every reader is a principal of this account, and SSE-KMS would
      // add a key grant (and KMS calls per object) to Firehose and every Athena user.
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'archive/',
      lifecycleRules: [
        {
          transitions: [{ storageClass: StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: ARCHIVE_SETTINGS.transitionAfter }],
          expiration: retention,
          abortIncompleteMultipartUploadAfter: Duration.days(1),
        },
      ],
    });
    this.bucket = bucket;

    this.deliveryStreamName = this.deliveryStreamTo(bucket, props).ref;

    this.databaseName = tableNameOf(stack.stackName);
    this.tableName = ARCHIVE_TABLE.tableName;
    const database = new CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'okta-log-pipeline: the archive of every delivered Okta System Log record' },
    });
    const location = `s3://${bucket.bucketName}/${ARCHIVE_TABLE.tableName}/`;
    const table = new CfnTable(this, 'Table', {
      catalogId: Aws.ACCOUNT_ID,
      databaseName: this.databaseName,
      tableInput: {
        name: ARCHIVE_TABLE.tableName,
        description: `${ARCHIVE_TABLE.logType} records, generated from schemas/ (npm run schemas)`,
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [...ARCHIVE_TABLE.partitionKeys],
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          // Partition projection: Athena computes the dt values a query's range needs instead of
          // reading partitions from the catalog, so no crawler and no MSCK REPAIR when Firehose
          // opens a new (or, for a late event, an old) day.
          // https://docs.aws.amazon.com/athena/latest/ug/partition-projection-supported-types.html
          'projection.enabled': 'true',
          [`projection.${dt}.type`]: 'date',
          [`projection.${dt}.format`]: 'yyyy-MM-dd',
          // From a date before any Okta org could have its 90 days of System Log pulled by this
          // pipeline, to today (the documented NOW token: the Firehose date example,
          // https://docs.aws.amazon.com/athena/latest/ug/partition-projection-kinesis-firehose-example-using-the-date-type.html).
          // Queries bound dt, so Athena lists only the days they name.
          [`projection.${dt}.range`]: `${ARCHIVE_SETTINGS.projectionStart},NOW`,
          [`projection.${dt}.interval`]: '1',
          [`projection.${dt}.interval.unit`]: 'DAYS',
          'storage.location.template': `${location}${dt}=\${${dt}}/`,
        },
        storageDescriptor: {
          location,
          columns: [...ARCHIVE_TABLE.columns],
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          compressed: true,
          serdeInfo: {
            // OpenX, not the Hive JSON SerDe: it returns a `json` field's object or array as its
            // JSON text in a string column. Keys are matched lower-cased (case.insensitive).
            // https://docs.aws.amazon.com/athena/latest/ug/openx-json-serde.html
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            parameters: { 'case.insensitive': 'TRUE', 'ignore.malformed.json': 'FALSE' },
          },
        },
      },
    });
    table.node.addDependency(database);

    const results = new Bucket(this, 'QueryResults', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'query-results/',
      lifecycleRules: [{ expiration: ARCHIVE_SETTINGS.resultsExpiration, abortIncompleteMultipartUploadAfter: Duration.days(1) }],
    });
    this.workGroupName = stack.stackName;
    const workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: 'okta-log-pipeline: investigations over the archive (saved queries included)',
      state: 'ENABLED',
      workGroupConfiguration: {
        // Users cannot point results elsewhere or turn their encryption off.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: ARCHIVE_SETTINGS.bytesScannedCutoffPerQuery.toBytes(),
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${results.bucketName}/`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    for (const query of loadSavedQueries()) {
      const named = new CfnNamedQuery(this, `Query-${query.name}`, {
        name: `okta-log-pipeline ${query.name}`,
        description: namedQueryDescription(query),
        database: this.databaseName,
        workGroup: this.workGroupName,
        queryString: query.sql,
      });
      named.node.addDependency(workGroup);
      named.node.addDependency(database);
    }
  }

  /** A metric of the delivery stream (namespace AWS/Firehose), for the alarms. */
  metric(metricName: string, props: MetricOptions): Metric {
    return new Metric({ namespace: 'AWS/Firehose', metricName, dimensionsMap: { DeliveryStreamName: this.deliveryStreamName }, ...props });
  }

  /**
   * The Firehose stream, with a role of its own holding exactly the permissions Firehose documents
   * for a Kinesis source and an S3 destination
   * (https://docs.aws.amazon.com/firehose/latest/dev/controlling-access.html): the L2 construct
   * grants read-write on the bucket, deletes included, which Firehose never needs.
   */
  private deliveryStreamTo(bucket: IBucket, props: ArchiveProps): CfnDeliveryStream {
    const role = new Role(this, 'DeliveryRole', {
      // The confused-deputy guard Firehose's documentation shows: only this account's Firehose.
      assumedBy: new ServicePrincipal('firehose.amazonaws.com', { conditions: { StringEquals: { 'sts:ExternalId': Aws.ACCOUNT_ID } } }),
      description: 'okta-log-pipeline archive: Firehose reads the event stream and writes the archive bucket',
    });
    // The stream's and the bucket's own grant methods, with the actions Firehose's documentation
    // lists, so that the grants follow the resources (and a customer key, if either had one).
    props.stream.grant(role, 'kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards');
    // The stream is encrypted with the AWS-managed aws/kinesis key, whose key policy lets any
    // principal of the account that may read the stream decrypt through Kinesis: no key object,
    // so nothing to grant. A stream under a customer key would need kms:Decrypt on it.
    props.stream.encryptionKey?.grant(role, 'kms:Decrypt');
    // BucketGrants has no grant for bucket-level actions alone (actionsOnBucketAndObjectKeys
    // would put them and the object actions in one statement on both ARNs), and these need no
    // key, so this statement names the bucket itself.
    role.addToPolicy(
      new PolicyStatement({
        actions: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );
    const objects = bucket.arnForObjects('*');
    // Without deletes: the read-write grant of the CDK's Firehose construct has them. The kms:
    // actions go to the bucket's key if it ever has one (Firehose's documented policy lists
    // kms:Decrypt and kms:GenerateDataKey for an SSE-KMS bucket); the SSE-S3 archive has none.
    BucketGrants.fromBucket(bucket).actionsOnObjectKeys(
      role,
      '*',
      's3:AbortMultipartUpload',
      's3:GetObject',
      's3:PutObject',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    );
    acknowledgeWildcardResource(
      role,
      objects,
      'Firehose names each archive object itself (prefix by event date, then its own name), so it may write any key of the archive bucket; the bucket holds nothing else.',
    );
    const logGroup = new LogGroup(this, 'DeliveryErrors', { retention: props.logRetention ?? CONTEXT_DEFAULTS.logRetentionDays });
    const logStream = new LogStream(this, 'DeliveryErrorsStream', { logGroup, logStreamName: 'S3Delivery' });
    // Written out rather than a LogGroup grant: those cover every stream of the group (and
    // grants.write adds CreateLogStream), while Firehose writes only this stream, which the stack creates.
    role.addToPolicy(
      new PolicyStatement({
        actions: ['logs:PutLogEvents'],
        resources: [
          Stack.of(this).formatArn({
            service: 'logs',
            resource: 'log-group',
            resourceName: `${logGroup.logGroupName}:log-stream:${logStream.logStreamName}`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
      }),
    );

    const stream = new CfnDeliveryStream(this, 'DeliveryStream', {
      deliveryStreamType: 'KinesisStreamAsSource',
      kinesisStreamSourceConfiguration: { kinesisStreamArn: props.stream.streamArn, roleArn: role.roleArn },
      extendedS3DestinationConfiguration: {
        bucketArn: bucket.bucketArn,
        roleArn: role.roleArn,
        prefix: ARCHIVE_FIREHOSE_PREFIX,
        errorOutputPrefix: `${ARCHIVE_ERROR_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/`,
        compressionFormat: 'GZIP',
        bufferingHints: {
          intervalInSeconds: ARCHIVE_SETTINGS.bufferingInterval.toSeconds(),
          sizeInMBs: ARCHIVE_SETTINGS.bufferingSize.toMebibytes(),
        },
        dynamicPartitioningConfiguration: {
          enabled: true,
          retryOptions: { durationInSeconds: ARCHIVE_SETTINGS.partitionRetry.toSeconds() },
        },
        processingConfiguration: {
          enabled: true,
          processors: [
            // The dt key from each record (JQ 1.6, the only engine Firehose offers),
            // https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html
            {
              type: 'MetadataExtraction',
              parameters: [
                { parameterName: 'MetadataExtractionQuery', parameterValue: `{${dt}: ${ARCHIVE_PARTITION_JQ}}` },
                { parameterName: 'JsonParsingEngine', parameterValue: 'JQ-1.6' },
              ],
            },
            // Then a newline after each record: Firehose concatenates records as they come, and
            // the SerDe (and DuckDB) read one record per line.
            // https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-s3bucketprefix.html#dynamic-partitioning-new-line-delimiter
            { type: 'AppendDelimiterToRecord' },
          ],
        },
        cloudWatchLoggingOptions: { enabled: true, logGroupName: logGroup.logGroupName, logStreamName: logStream.logStreamName },
      },
    });
    // Firehose checks its role's permissions when the stream is created.
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy !== undefined) stream.node.addDependency(policy);
    Validations.of(stream).acknowledge({
      id: 'AwsSolutions-KDF1',
      reason:
        'Server-side encryption of a delivery stream applies only to Direct PUT sources; this one reads the KMS-encrypted Kinesis stream and writes to an SSE-S3 bucket, so records are encrypted at rest at both ends.',
    });
    return stream;
  }
}

/** Athena's description limit. */
const MAX_DESCRIPTION_LENGTH = 1024;

/** The title, when to use it, and the order in which Athena's console asks for the `?` values. */
function namedQueryDescription(query: SavedQuery): string {
  const order = query.parameterOrder.length === 0 ? '' : ` Parameters, in order: ${query.parameterOrder.join(', ')}.`;
  const text = `${query.title} When to use: ${query.whenToUse}${order}`;
  return text.length <= MAX_DESCRIPTION_LENGTH ? text : `${text.slice(0, MAX_DESCRIPTION_LENGTH - 3)}...`;
}
