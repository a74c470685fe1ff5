import { App, Stack } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { CursorTable } from '../../lib/cursor-table';
import { EventStream } from '../../lib/event-stream';
import { STACK_OUTPUTS } from '../../lib/okta-log-pipeline-stack';
import { Puller } from '../../lib/puller';
import { QuarantineBucket } from '../../lib/quarantine-bucket';
import { expectTlsOnlyBucket, logicalIdOf, synthPipeline } from './synth-pipeline';

const { template } = synthPipeline();
const pullerId = logicalIdOf(template, 'AWS::Lambda::Function', {
  Handler: 'index.handler',
  Environment: { Variables: Match.objectLike({ SOURCE_SECRET_PREFIX: Match.anyValue() }) },
});
const detectionsId = logicalIdOf(template, 'AWS::Lambda::Function', {
  Environment: { Variables: Match.objectLike({ STATE_TABLE_NAME: Match.anyValue() }) },
});
const streamId = logicalIdOf(template, 'AWS::Kinesis::Stream');
const cursorTableId = logicalIdOf(template, 'AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'sourceId', KeyType: 'HASH' }] });
const stateTableId = logicalIdOf(template, 'AWS::DynamoDB::Table', { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] });
const quarantineId = logicalIdOf(template, 'AWS::S3::Bucket', { LoggingConfiguration: { LogFilePrefix: 'quarantine/' } });
const alertsTopicId = logicalIdOf(template, 'AWS::SNS::Topic', { DisplayName: 'okta-log-pipeline detection alerts' });
const onCallTopicId = logicalIdOf(template, 'AWS::SNS::Topic', { DisplayName: 'okta-log-pipeline on-call' });

function policyStatementsOf(roleOfFunction: string): Array<Record<string, unknown>> {
  const role = (template.toJSON().Resources[roleOfFunction].Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
  const policies = template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: role }] } });
  return Object.values(policies).flatMap((policy) => policy.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);
}

describe('the puller', () => {
  it('runs every minute from an EventBridge rule, without retries that would overlap the next run', () => {
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 minute)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [pullerId, 'Arn'] },
          // One shard by default: the single invocation pulls every source.
          Input: JSON.stringify({ shard: 0, shards: 1 }),
          RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
        }),
      ],
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: pullerId },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 60,
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      FunctionName: { 'Fn::GetAtt': [pullerId, 'Arn'] },
      Principal: 'events.amazonaws.com',
    });
  });

  it.each([2, 5, 7, 20])('with pullerShards=%i, invokes the puller once a minute per shard, at most 5 targets per rule', (shards) => {
    const sharded = synthPipeline({ pullerShards: String(shards) }).template;
    const rules = Object.values(sharded.findResources('AWS::Events::Rule')).map(
      (rule) => rule.Properties as { ScheduleExpression: string; State: string; Targets: Array<Record<string, unknown>> },
    );
    expect(rules).toHaveLength(Math.ceil(shards / 5));
    for (const rule of rules) {
      expect(rule).toMatchObject({ ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
      expect(rule.Targets.length).toBeGreaterThanOrEqual(1);
      expect(rule.Targets.length).toBeLessThanOrEqual(5);
    }
    const targets = rules.flatMap((rule) => rule.Targets);
    const puller = logicalIdOf(sharded, 'AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ SOURCE_SECRET_PREFIX: Match.anyValue() }) },
    });
    for (const target of targets) {
      expect(target).toMatchObject({
        Arn: { 'Fn::GetAtt': [puller, 'Arn'] },
        RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 },
      });
    }
    const inputs = targets
      .map((target) => JSON.parse(target.Input as string) as { shard: number; shards: number })
      .sort((a, b) => a.shard - b.shard);
    expect(inputs).toEqual(Array.from({ length: shards }, (_, shard) => ({ shard, shards })));
    // EventBridge may invoke the function from each rule, and from nothing else.
    const permissions = Object.values(
      sharded.findResources('AWS::Lambda::Permission', { Properties: { Principal: 'events.amazonaws.com' } }),
    );
    expect(permissions).toHaveLength(rules.length);
  });

  it('refuses a shard count the handler would reject', () => {
    expect(() => synthPipeline({ pullerShards: 21 })).toThrow('CDK context "pullerShards": must be a whole number from 1 to 20, got 21');
  });

  it.each([0, 2.5, 21])('refuses shards=%p when the Puller construct is used on its own', (shards) => {
    const stack = new Stack(new App({ context: { 'aws:cdk:bundling-stacks': [] } }), 'Library');
    const props = {
      stream: new EventStream(stack, 'Events').stream,
      cursorTable: new CursorTable(stack, 'Cursors').table,
      quarantineBucket: new QuarantineBucket(stack, 'Quarantine').bucket,
    };
    expect(() => new Puller(stack, 'Puller', { ...props, shards })).toThrow(
      `Puller Library/Puller: shards must be a whole number from 1 to 20, got ${shards}`,
    );
  });

  it('is a Node 24 arm64 function with the configured memory and timeout', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: Match.absent(),
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 90,
      Environment: { Variables: Match.objectLike({ SOURCE_SECRET_PREFIX: 'okta-log-pipeline/sources/' }) },
    });
  });

  it('gets the environment of the shared contract', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: {
          SOURCE_SECRET_PREFIX: 'okta-log-pipeline/sources/',
          CURSOR_TABLE_NAME: { Ref: cursorTableId },
          STREAM_NAME: { Ref: streamId },
          QUARANTINE_BUCKET_NAME: { Ref: quarantineId },
          RUN_BUDGET_SECONDS: '55',
          RATE_LIMIT_RESERVE_PERCENT: '20',
          POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-puller',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          NODE_OPTIONS: '--enable-source-maps',
          MALLOC_ARENA_MAX: '2',
          MALLOC_MMAP_THRESHOLD_: '65536',
          MALLOC_TRIM_THRESHOLD_: '131072',
        },
      },
    });
  });

  it('takes memory, timeout, run budget, reserve and secret prefix from context', () => {
    const custom = synthPipeline({
      pullerMemoryMb: 512,
      pullerTimeoutSeconds: 120,
      runBudgetSeconds: 100,
      rateLimitReservePercent: 35,
      sourceSecretPrefix: 'acme/okta/',
      logRetentionDays: 30,
    }).template;
    custom.hasResourceProperties('AWS::Lambda::Function', {
      MemorySize: 512,
      Timeout: 120,
      Environment: {
        Variables: Match.objectLike({ SOURCE_SECRET_PREFIX: 'acme/okta/', RUN_BUDGET_SECONDS: '100', RATE_LIMIT_RESERVE_PERCENT: '35' }),
      },
    });
    custom.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 'secretsmanager:GetSecretValue',
            Resource: { 'Fn::Join': ['', Match.arrayWith([':secret:acme/okta/*'])] },
          }),
        ]),
      },
    });
    custom.allResourcesProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('may read only the secrets under the prefix, and touches only its own table, stream and bucket', () => {
    const statements = policyStatementsOf(pullerId);
    const byAction = new Map(statements.map((s) => [JSON.stringify(s.Action), s.Resource]));
    expect(byAction.get('"secretsmanager:GetSecretValue"')).toEqual({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':secret:okta-log-pipeline/sources/*',
        ],
      ],
    });
    expect(byAction.get('"secretsmanager:ListSecrets"')).toBe('*');
    // Table.grant lists the table's ARNs (its indexes' too, once it has any): a list of one here.
    expect(byAction.get('["dynamodb:BatchGetItem","dynamodb:UpdateItem"]')).toEqual([{ 'Fn::GetAtt': [cursorTableId, 'Arn'] }]);
    expect(byAction.get('"kinesis:PutRecords"')).toEqual({ 'Fn::GetAtt': [streamId, 'Arn'] });
    expect(byAction.get('"s3:PutObject"')).toEqual({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [quarantineId, 'Arn'] }, '/*']] });
    // Nothing else but its own log group: a new statement must be added to this test on purpose.
    expect(statements).toHaveLength(6);
    expect(statements.filter((s) => s.Resource === '*').map((s) => s.Action)).toEqual(['secretsmanager:ListSecrets']);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });
});

describe('the stream', () => {
  it('is KMS-encrypted and on-demand by default, keeping records 24 hours', () => {
    template.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: { EncryptionType: 'KMS', KeyId: 'alias/aws/kinesis' },
      StreamModeDetails: { StreamMode: 'ON_DEMAND' },
      ShardCount: Match.absent(),
      RetentionPeriodHours: 24,
    });
  });

  it('is provisioned with the shard count from context', () => {
    synthPipeline({ streamMode: 'PROVISIONED', streamShardCount: '3', streamRetentionHours: 48 }).template.hasResourceProperties(
      'AWS::Kinesis::Stream',
      {
        StreamModeDetails: { StreamMode: 'PROVISIONED' },
        ShardCount: 3,
        RetentionPeriodHours: 48,
      },
    );
  });
});

describe('the tables', () => {
  it('keeps one cursor per source, on demand, encrypted, with point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'sourceId', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'sourceId', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
  });

  it('keeps detection state under pk with TTL expiresAt and point-in-time recovery', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', {
      Properties: { KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }] },
      DeletionPolicy: 'Retain',
    });
  });
});

describe('the quarantine bucket', () => {
  it('is encrypted, private, access-logged and expires objects after the configured days', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'quarantine/' },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 30, Status: 'Enabled' })]) },
    });
    synthPipeline({ quarantineExpirationDays: 7 }).template.hasResourceProperties('AWS::S3::Bucket', {
      LoggingConfiguration: Match.anyValue(),
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ ExpirationInDays: 7 })]) },
    });
  });

  it('refuses every request that is not over TLS', () => {
    expectTlsOnlyBucket(template, quarantineId);
  });
});

describe('the on-call topic', () => {
  it('is KMS-encrypted with a key CloudWatch may use, and refuses non-TLS publishing', () => {
    const keyId = (template.toJSON().Resources[onCallTopicId].Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string, string] })[
      'Fn::GetAtt'
    ][0];
    template.hasResource('AWS::KMS::Key', {
      Properties: {
        EnableKeyRotation: true,
        KeyPolicy: {
          Statement: Match.arrayWith([
            Match.objectLike({ Principal: { Service: 'cloudwatch.amazonaws.com' }, Action: ['kms:Decrypt', 'kms:GenerateDataKey*'] }),
          ]),
        },
      },
    });
    expect(Object.keys(template.findResources('AWS::KMS::Key'))).toContain(keyId);
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: onCallTopicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('has no subscription unless context names one', () => {
    template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('subscribes the e-mail address and the HTTPS endpoint from context', () => {
    const withSubscriptions = synthPipeline({
      alarmEmail: 'oncall@example.com',
      alarmHttpsEndpoint: 'https://events.pagerduty.com/integration/abc123/enqueue',
      alertsEmail: 'soc@example.com',
    }).template;
    withSubscriptions.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'oncall@example.com',
      TopicArn: { Ref: onCallTopicId },
    });
    withSubscriptions.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'https',
      Endpoint: 'https://events.pagerduty.com/integration/abc123/enqueue',
      TopicArn: { Ref: onCallTopicId },
    });
    withSubscriptions.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'soc@example.com',
      TopicArn: { Ref: alertsTopicId },
    });
    withSubscriptions.resourceCountIs('AWS::SNS::Subscription', 3);
  });
});

describe('the detections', () => {
  it('is a Node 24 arm64 function told where its state and alerts go', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Environment: {
        Variables: Match.objectLike({
          STATE_TABLE_NAME: { Ref: stateTableId },
          ALERTS_TOPIC_ARN: { Ref: alertsTopicId },
          POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-detections',
        }),
      },
    });
  });

  it('reads the stream in bounded, bisecting batches and sends what keeps failing to an encrypted DLQ', () => {
    const dlqId = logicalIdOf(template, 'AWS::SQS::Queue');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [streamId, 'Arn'] },
      FunctionName: { Ref: detectionsId },
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 500,
      MaximumBatchingWindowInSeconds: 5,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 3,
      MaximumRecordAgeInSeconds: 21600,
      ParallelizationFactor: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: dlqId }],
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('publishes alerts to a KMS-encrypted topic separate from on-call, and touches only its own resources', () => {
    template.hasResourceProperties('AWS::SNS::Topic', {
      DisplayName: 'okta-log-pipeline detection alerts',
      KmsMasterKeyId: Match.anyValue(),
    });
    expect(alertsTopicId).not.toBe(onCallTopicId);
    const statements = policyStatementsOf(detectionsId);
    expect(statements.filter((s) => s.Resource === '*')).toEqual([]);
    expect(statements).toContainEqual(expect.objectContaining({ Action: 'sns:Publish', Resource: { Ref: alertsTopicId } }));
    expect(statements).toContainEqual(
      expect.objectContaining({
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        Resource: [{ 'Fn::GetAtt': [stateTableId, 'Arn'] }],
      }),
    );
  });
});

describe('the outputs', () => {
  it('give the sources CLI everything it looks up', () => {
    const outputs = template.findOutputs('*');
    expect(Object.keys(outputs).sort()).toEqual(Object.values(STACK_OUTPUTS).sort());
    template.hasOutput(STACK_OUTPUTS.sourceSecretPrefix, { Value: 'okta-log-pipeline/sources/' });
    template.hasOutput(STACK_OUTPUTS.cursorTableName, { Value: { Ref: cursorTableId } });
    template.hasOutput(STACK_OUTPUTS.streamName, { Value: { Ref: streamId } });
    template.hasOutput(STACK_OUTPUTS.streamArn, { Value: { 'Fn::GetAtt': [streamId, 'Arn'] } });
    template.hasOutput(STACK_OUTPUTS.quarantineBucketName, { Value: { Ref: quarantineId } });
    template.hasOutput(STACK_OUTPUTS.onCallTopicArn, { Value: { Ref: onCallTopicId } });
    template.hasOutput(STACK_OUTPUTS.alertsTopicArn, { Value: { Ref: alertsTopicId } });
  });
});
