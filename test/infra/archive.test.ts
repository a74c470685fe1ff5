/**
 * The archive's resources as synthesised: the bucket (encrypted, TLS only, private, lifecycle),
 * the Firehose stream (event-date dynamic partitioning, gzip, newline per record) with a role of
 * exactly the documented permissions, the Glue table generated from the YAML with partition
 * projection, the Athena workgroup (encrypted, enforced results) with one named query per saved
 * query, and nothing of it with -c archive=false.
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { Match } from 'aws-cdk-lib/assertions';
import { ARCHIVE_TABLE } from '../../lambdas/core/archive/layout';
import { loadSavedQueries } from '../../schemas/queries/saved-queries';
import { expectTlsOnlyBucket, logicalIdOf, synthPipeline } from './synth-pipeline';

const { template } = synthPipeline();
const resources = template.toJSON().Resources as Record<
  string,
  { Type: string; Properties: Record<string, unknown>; DependsOn?: string[] }
>;
const deliveryStreamId = logicalIdOf(template, 'AWS::KinesisFirehose::DeliveryStream');
const streamId = logicalIdOf(template, 'AWS::Kinesis::Stream');
const archiveBucketId = logicalIdOf(template, 'AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'archive/' } });
const resultsBucketId = logicalIdOf(template, 'AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'query-results/' } });
const deliveryRoleId = logicalIdOf(template, 'AWS::IAM::Role', {
  AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'firehose.amazonaws.com' } })] },
});
const workGroupId = logicalIdOf(template, 'AWS::Athena::WorkGroup');
const databaseId = logicalIdOf(template, 'AWS::Glue::Database');
const bucketArn = { 'Fn::GetAtt': [archiveBucketId, 'Arn'] };

describe('the archive bucket', () => {
  it('is encrypted, private, owner-enforced and access-logged', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LoggingConfiguration: { LogFilePrefix: 'archive/' },
    });
  });

  it('refuses every request without TLS', () => {
    expectTlsOnlyBucket(template, archiveBucketId);
  });

  it.each([
    [{}, 400],
    [{ archiveRetentionDays: '90' }, 90],
  ])('with %j, moves objects to Glacier Instant Retrieval after 30 days and deletes them after %i', (context, days) => {
    const synthesised = synthPipeline(context).template;
    synthesised.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'archive/' },
      LifecycleConfiguration: {
        Rules: [
          Match.objectLike({
            Status: 'Enabled',
            ExpirationInDays: days,
            Transitions: [{ StorageClass: 'GLACIER_IR', TransitionInDays: 30 }],
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
        ],
      },
    });
  });
});

describe('the Firehose delivery stream', () => {
  it('reads the event stream and writes gzip NDJSON partitioned by the event date of each record', () => {
    template.hasResourceProperties('AWS::KinesisFirehose::DeliveryStream', {
      DeliveryStreamType: 'KinesisStreamAsSource',
      KinesisStreamSourceConfiguration: {
        KinesisStreamARN: { 'Fn::GetAtt': [streamId, 'Arn'] },
        RoleARN: { 'Fn::GetAtt': [deliveryRoleId, 'Arn'] },
      },
      ExtendedS3DestinationConfiguration: {
        BucketARN: bucketArn,
        RoleARN: { 'Fn::GetAtt': [deliveryRoleId, 'Arn'] },
        Prefix: 'okta_system_log/dt=!{partitionKeyFromQuery:dt}/',
        ErrorOutputPrefix: 'errors/!{firehose:error-output-type}/!{timestamp:yyyy-MM-dd}/',
        CompressionFormat: 'GZIP',
        BufferingHints: { IntervalInSeconds: 300, SizeInMBs: 64 },
        DynamicPartitioningConfiguration: { Enabled: true, RetryOptions: { DurationInSeconds: 7200 } },
        ProcessingConfiguration: {
          Enabled: true,
          Processors: [
            {
              Type: 'MetadataExtraction',
              Parameters: [
                { ParameterName: 'MetadataExtractionQuery', ParameterValue: '{dt: .p_event_time[0:10]}' },
                { ParameterName: 'JsonParsingEngine', ParameterValue: 'JQ-1.6' },
              ],
            },
            { Type: 'AppendDelimiterToRecord' },
          ],
        },
        CloudWatchLoggingOptions: { Enabled: true, LogGroupName: Match.anyValue(), LogStreamName: Match.anyValue() },
      },
    });
  });

  it("is created after its role's permissions, which Firehose checks at creation", () => {
    const policyId = logicalIdOf(template, 'AWS::IAM::Policy', { Roles: [{ Ref: deliveryRoleId }] });
    expect(resources[deliveryStreamId]!.DependsOn).toEqual(expect.arrayContaining([policyId]));
  });

  it("assumes a role only this account's Firehose can, with exactly the permissions Firehose documents (no deletes, no other resource)", () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: {
        Statement: [
          {
            Action: 'sts:AssumeRole',
            Effect: 'Allow',
            Principal: { Service: 'firehose.amazonaws.com' },
            Condition: { StringEquals: { 'sts:ExternalId': { Ref: 'AWS::AccountId' } } },
          },
        ],
      },
    });
    const policies = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: deliveryRoleId }] } }));
    expect(policies).toHaveLength(1);
    expect(
      template.findResources('AWS::IAM::Role', {
        Properties: {
          ManagedPolicyArns: Match.anyValue(),
          AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'firehose.amazonaws.com' } })] },
        },
      }),
    ).toEqual({});
    const statements = policies[0]!.Properties.PolicyDocument.Statement as Array<{ Action: string | string[]; Resource: unknown }>;
    expect(statements.map((statement) => ({ Action: statement.Action, Resource: statement.Resource })).slice(0, 3)).toEqual([
      {
        Action: ['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'],
        Resource: { 'Fn::GetAtt': [streamId, 'Arn'] },
      },
      { Action: ['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'], Resource: bucketArn },
      { Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'], Resource: { 'Fn::Join': ['', [bucketArn, '/*']] } },
    ]);
    expect(statements).toHaveLength(4);
    expect(statements[3]!.Action).toBe('logs:PutLogEvents');
    expect(JSON.stringify(statements[3]!.Resource)).toMatch(
      /:log-group:".*ArchiveDeliveryErrors.*:log-stream:".*ArchiveDeliveryErrorsStream/,
    );
  });
});

describe('the Glue table', () => {
  const table = Object.values(template.findResources('AWS::Glue::Table'))[0]!.Properties as {
    DatabaseName: string;
    TableInput: {
      Name: string;
      PartitionKeys: unknown;
      Parameters: Record<string, unknown>;
      StorageDescriptor: { Columns: unknown; Location: unknown; SerdeInfo: unknown };
    };
  };

  it('has the columns generated from the YAML schema and the dt partition key', () => {
    expect(table.DatabaseName).toBe('okta_log_pipeline');
    expect(table.TableInput.Name).toBe('okta_system_log');
    expect(table.TableInput.StorageDescriptor.Columns).toEqual(
      ARCHIVE_TABLE.columns.map((column) => ({ Name: column.name, Type: column.type, Comment: column.comment })),
    );
    expect(table.TableInput.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string', Comment: 'UTC date of p_event_time, yyyy-MM-dd' }]);
  });

  it('reads gzip NDJSON with the OpenX SerDe, keys matched case-insensitively', () => {
    expect(table.TableInput.StorageDescriptor.SerdeInfo).toEqual({
      SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
      Parameters: { 'case.insensitive': 'TRUE', 'ignore.malformed.json': 'FALSE' },
    });
    expect(table.TableInput.StorageDescriptor.Location).toEqual({
      'Fn::Join': ['', ['s3://', { Ref: archiveBucketId }, '/okta_system_log/']],
    });
  });

  it('projects dt by day from the same prefix Firehose writes, so no crawler is needed', () => {
    expect(table.TableInput.Parameters).toEqual({
      classification: 'json',
      compressionType: 'gzip',
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2020-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
      'storage.location.template': { 'Fn::Join': ['', ['s3://', { Ref: archiveBucketId }, '/okta_system_log/dt=${dt}/']] },
    });
    template.resourceCountIs('AWS::Glue::Crawler', 0);
  });
});

describe('the Athena workgroup', () => {
  it('enforces encrypted results in their own expiring bucket, engine 3, and a scan cutoff', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      Name: 'OktaLogPipeline',
      State: 'ENABLED',
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        PublishCloudWatchMetricsEnabled: true,
        BytesScannedCutoffPerQuery: 100 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: {
          OutputLocation: { 'Fn::Join': ['', ['s3://', { Ref: resultsBucketId }, '/']] },
          EncryptionConfiguration: { EncryptionOption: 'SSE_S3' },
        },
      },
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: { LogFilePrefix: 'query-results/' },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 30 })] },
    });
  });

  it('holds every saved query of schemas/queries as a named query, as written, with its parameter order', () => {
    const named = Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::Athena::NamedQuery');
    const saved = loadSavedQueries();
    expect(named.map(([, resource]) => resource.Properties.Name).sort()).toEqual(
      saved.map((query) => `okta-log-pipeline ${query.name}`).sort(),
    );
    for (const query of saved) {
      const [id, resource] = named.find(([, candidate]) => candidate.Properties.Name === `okta-log-pipeline ${query.name}`)!;
      expect(resource.Properties).toEqual({
        Name: `okta-log-pipeline ${query.name}`,
        Database: 'okta_log_pipeline',
        WorkGroup: 'OktaLogPipeline',
        QueryString: readFileSync(path.resolve(__dirname, '../../schemas/queries', `${query.name}.sql`), 'utf8'),
        Description: expect.stringContaining(`${query.title} When to use: `),
      });
      if (query.parameterOrder.length > 0)
        expect(resource.Properties.Description).toContain(`Parameters, in order: ${query.parameterOrder.join(', ')}.`);
      expect(resources[id]!.DependsOn).toEqual(expect.arrayContaining([workGroupId, databaseId]));
    }
  });
});

describe('-c archive=false', () => {
  it('leaves out Firehose, the archive buckets, Glue and Athena, and their outputs', () => {
    const without = synthPipeline({ archive: 'false' }).template;
    for (const type of [
      'AWS::KinesisFirehose::DeliveryStream',
      'AWS::Glue::Database',
      'AWS::Glue::Table',
      'AWS::Athena::WorkGroup',
      'AWS::Athena::NamedQuery',
    ]) {
      without.resourceCountIs(type, 0);
    }
    expect(Object.keys(without.findResources('AWS::S3::Bucket'))).toHaveLength(2);
    expect(Object.keys(without.toJSON().Outputs as object).filter((name) => name.startsWith('Archive'))).toEqual([]);
    expect(
      Object.keys(template.toJSON().Outputs as object)
        .filter((name) => name.startsWith('Archive'))
        .sort(),
    ).toEqual(['ArchiveBucketName', 'ArchiveDatabaseName', 'ArchiveWorkGroupName']);
  });
});
