import { Aws, Duration, Size, Stack, Validations } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IStream } from 'aws-cdk-lib/aws-kinesis';
import {
  AppendDelimiterToRecordProcessor,
  Compression,
  DeliveryStream,
  KinesisStreamSource,
  MetadataExtractionProcessor,
  S3Bucket,
  type IDeliveryStream,
} from 'aws-cdk-lib/aws-kinesisfirehose';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, StorageClass, type IBucket } from 'aws-cdk-lib/aws-s3';
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

export interface ArchiveProps {
  /** The event stream Firehose reads. */
  readonly stream: IStream;
  /**
   * Archived objects are deleted this long after they are written.
   * @default Duration.days(400)
   */
  readonly retention?: Duration;
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
  // Query results hold the same personal data as the archive, and are re-run rather than kept.
  resultsExpiration: Duration.days(30),
  // A query that forgets its dt range would scan the whole archive; Athena stops it here ($0.49 at $5 per TB).
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
  readonly deliveryStream: IDeliveryStream;
  readonly databaseName: string;
  readonly tableName: string;
  readonly workGroupName: string;
  readonly savedQueries: readonly SavedQuery[];

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

    this.deliveryStream = new DeliveryStream(this, 'DeliveryStream', {
      source: new KinesisStreamSource(props.stream),
      destination: new S3Bucket(bucket, {
        dataOutputPrefix: ARCHIVE_FIREHOSE_PREFIX,
        errorOutputPrefix: `${ARCHIVE_ERROR_PREFIX}!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/`,
        compression: Compression.GZIP,
        bufferingInterval: ARCHIVE_SETTINGS.bufferingInterval,
        bufferingSize: ARCHIVE_SETTINGS.bufferingSize,
        dynamicPartitioning: { enabled: true, retryDuration: ARCHIVE_SETTINGS.partitionRetry },
        // The dt key from each record (JQ 1.6, the only engine Firehose offers), then a newline
        // after each record: Firehose concatenates records as they are, and the SerDe reads lines.
        // https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-s3bucketprefix.html#dynamic-partitioning-new-line-delimiter
        processors: [MetadataExtractionProcessor.jq16({ dt: ARCHIVE_PARTITION_JQ }), new AppendDelimiterToRecordProcessor()],
      }),
    });
    Validations.of(this.deliveryStream).acknowledge({
      id: 'AwsSolutions-KDF1',
      reason:
        'Server-side encryption of a delivery stream applies only to Direct PUT sources; this one reads the KMS-encrypted Kinesis stream and writes to an SSE-S3 bucket, so records are encrypted at rest at both ends.',
    });

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
          // Okta keeps 90 days, so a record is at most that old when archived, and objects expire
          // `retention` after they are written; a day ahead covers clocks near midnight UTC.
          [`projection.${dt}.range`]: `NOW-${retention.toDays() + 90}DAYS,NOW+1DAYS`,
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
    table.addDependency(database);

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

    this.savedQueries = loadSavedQueries();
    for (const query of this.savedQueries) {
      const named = new CfnNamedQuery(this, `Query-${query.name}`, {
        name: `okta-log-pipeline ${query.name}`,
        description: namedQueryDescription(query),
        database: this.databaseName,
        workGroup: this.workGroupName,
        queryString: query.sql,
      });
      named.addDependency(workGroup);
      named.addDependency(database);
    }
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
