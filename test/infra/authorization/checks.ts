/**
 * Every authorization the deployment relies on, and every denial that matters, as requests with
 * the decision they must get. Built from the resolved template (so a new alarm, schedule, bucket
 * log or event source is checked without a new line here) and from API_CALLS.
 */
import type { ResolvedTemplate } from '../cfn/resolve-template';
import { API_CALLS, functionOf, LAMBDAS, targetArn, type Caller, type LambdaName } from './api-calls';
import { awsManagedKeyArn, type AuthorizationRequest, type Decision, type DeploymentPolicies } from './evaluate';

export interface AuthorizationCheck {
  readonly name: string;
  readonly request: AuthorizationRequest;
  readonly expected: Decision | 'Denied';
}

/** An account that is not the deployment's; its principals' own IAM policies allow everything. */
export const OTHER_ACCOUNT = '444455556666';
export const OTHER_ACCOUNT_ROLE = `arn:aws:iam::${OTHER_ACCOUNT}:role/anyone`;

/** The service whose requests to KMS a caller's call causes (server-side encryption). */
const KMS_VIA_SERVICE: Partial<Record<Caller, string>> = {
  'sns:Publish': 'sns',
  'kinesis:PutRecords': 'kinesis',
  'secretsmanager:GetSecretValue': 'secretsmanager',
  // The mapping's GetRecords: Kinesis decrypts the records.
  'event-source-mapping': 'kinesis',
};

/** A request from another account, which must be denied: the resource's policy lets no other account in. */
function otherAccountDenied(name: string, action: string, resource: string): AuthorizationCheck {
  return { name, request: { principal: OTHER_ACCOUNT_ROLE, action, resource }, expected: 'Denied' };
}

/** A request without TLS, which the resource's TLS-only Deny refuses even to a principal that may otherwise make it. */
function withoutTlsRefused(name: string, principal: string, action: string, resource: string): AuthorizationCheck {
  return { name, request: { principal, action, resource, context: { 'aws:SecureTransport': 'false' } }, expected: 'ExplicitlyDenied' };
}

const serviceContext = (template: ResolvedTemplate, sourceArn: string) => ({
  'aws:SourceArn': sourceArn,
  'aws:SourceAccount': template.env.account,
});

/** What each Lambda does, from API_CALLS: each call allowed. */
function lambdaCalls(template: ResolvedTemplate, policies: DeploymentPolicies): AuthorizationCheck[] {
  return (Object.keys(LAMBDAS) as LambdaName[]).flatMap((lambda) => {
    const functionId = functionOf(template, lambda);
    const principal = policies.lambdaPrincipal(functionId);
    return API_CALLS[lambda].map((call) => {
      const resource = targetArn(template, functionId, call.target);
      // A KMS call a service makes for the caller carries the service it came through.
      const service = call.action.startsWith('kms:') ? KMS_VIA_SERVICE[call.caller] : undefined;
      const context =
        service === undefined
          ? undefined
          : { 'kms:ViaService': `${service}.${template.env.region}.amazonaws.com`, 'kms:CallerAccount': template.env.account };
      return {
        name: `${lambda}: ${call.action} on ${call.target} (${call.caller})`,
        request: { principal, action: call.action, resource, context },
        expected: 'Allowed' as const,
      };
    });
  });
}

/** AWS services acting on the deployment's resources, as the template wires them. */
function servicePaths(template: ResolvedTemplate): AuthorizationCheck[] {
  const checks: AuthorizationCheck[] = [];
  const topicKey = (topicArn: string): string | undefined => {
    const topic = template.ofType('AWS::SNS::Topic').find((id) => template.ref(id) === topicArn);
    return topic === undefined ? undefined : (template.resources[topic]!.Properties!.KmsMasterKeyId as string | undefined);
  };
  // Every alarm action: CloudWatch publishes to the topic and uses its key, for that alarm.
  for (const alarm of template.ofType('AWS::CloudWatch::Alarm')) {
    const properties = template.resources[alarm]!.Properties!;
    const alarmArn = template.attribute(alarm, 'Arn');
    const topics = new Set([
      ...((properties.AlarmActions as string[] | undefined) ?? []),
      ...((properties.OKActions as string[] | undefined) ?? []),
    ]);
    for (const topicArn of topics) {
      const name = properties.AlarmName as string;
      checks.push({
        name: `CloudWatch alarm ${name}: sns:Publish to ${topicArn.split(':').pop()}`,
        request: {
          principal: 'cloudwatch.amazonaws.com',
          action: 'sns:Publish',
          resource: topicArn,
          context: serviceContext(template, alarmArn),
        },
        expected: 'Allowed',
      });
      const key = topicKey(topicArn);
      for (const action of key === undefined ? [] : ['kms:GenerateDataKey', 'kms:Decrypt']) {
        checks.push({
          name: `CloudWatch alarm ${name}: ${action} on the topic's key`,
          request: { principal: 'cloudwatch.amazonaws.com', action, resource: key!, context: serviceContext(template, alarmArn) },
          expected: 'Allowed',
        });
      }
    }
  }
  // Every scheduled Lambda target: EventBridge invokes it for that rule.
  for (const rule of template.ofType('AWS::Events::Rule')) {
    for (const target of (template.resources[rule]!.Properties!.Targets as Array<{ Arn: string }> | undefined) ?? []) {
      if (!target.Arn.includes(':lambda:')) continue;
      checks.push({
        name: `EventBridge rule ${template.ref(rule)}: lambda:InvokeFunction on its target`,
        request: {
          principal: 'events.amazonaws.com',
          action: 'lambda:InvokeFunction',
          resource: target.Arn,
          context: serviceContext(template, template.attribute(rule, 'Arn')),
        },
        expected: 'Allowed',
      });
    }
  }
  // Every bucket's server access logs: the S3 logging service writes them under the prefix.
  for (const bucket of template.ofType('AWS::S3::Bucket')) {
    const logging = template.resources[bucket]!.Properties!.LoggingConfiguration as
      { DestinationBucketName: string; LogFilePrefix?: string } | undefined;
    if (logging === undefined) continue;
    checks.push({
      name: `S3 server access logging of ${template.ref(bucket)}: s3:PutObject into its log bucket`,
      request: {
        principal: 'logging.s3.amazonaws.com',
        action: 's3:PutObject',
        resource: `arn:${template.env.partition}:s3:::${logging.DestinationBucketName}/${logging.LogFilePrefix ?? ''}2026-01-01-00-00-00-0123456789ABCDEF`,
        context: serviceContext(template, template.attribute(bucket, 'Arn')),
      },
      expected: 'Allowed',
    });
  }
  return checks;
}

interface DeliveryStreamProperties {
  readonly KinesisStreamSourceConfiguration: { readonly KinesisStreamARN: string; readonly RoleARN: string };
  readonly ExtendedS3DestinationConfiguration: {
    readonly BucketARN: string;
    readonly RoleARN: string;
    readonly Prefix: string;
    readonly ErrorOutputPrefix: string;
    readonly CloudWatchLoggingOptions: { readonly LogGroupName: string; readonly LogStreamName: string };
  };
}

/** The archive's Firehose stream and its role, when the archive is deployed. */
export function archiveDelivery(
  template: ResolvedTemplate,
  policies: DeploymentPolicies,
): { properties: DeliveryStreamProperties; principal: string; object: string; errorObject: string } | undefined {
  const [deliveryStream] = template.ofType('AWS::KinesisFirehose::DeliveryStream');
  if (deliveryStream === undefined) return undefined;
  const properties = template.resources[deliveryStream]!.Properties as unknown as DeliveryStreamProperties;
  const destination = properties.ExtendedS3DestinationConfiguration;
  return {
    properties,
    principal: policies.rolePrincipal(destination.RoleARN, 'firehose'),
    // Keys as Firehose names them: the prefix with the partition key filled in, then its own name.
    object: `${destination.BucketARN}/${destination.Prefix.replace('!{partitionKeyFromQuery:dt}', '2026-01-01')}${template.env.stackName}-1-2026-01-01-00-05-00-0123.gz`,
    errorObject: `${destination.BucketARN}/${destination.ErrorOutputPrefix.replace('!{firehose:error-output-type}', 'processing-failed').replace('!{timestamp:yyyy-MM-dd}', '2026-01-01')}x.gz`,
  };
}

/**
 * The archive: Firehose, as its one role, reads the event stream (decrypting through Kinesis with
 * the AWS managed aws/kinesis key), writes objects and its error log, and can do nothing else.
 */
function archivePaths(template: ResolvedTemplate, policies: DeploymentPolicies): AuthorizationCheck[] {
  const archive = archiveDelivery(template, policies);
  if (archive === undefined) return [];
  const { properties, principal, object, errorObject } = archive;
  const source = properties.KinesisStreamSourceConfiguration;
  const destination = properties.ExtendedS3DestinationConfiguration;
  const { partition, region, account } = template.env;
  const stream = template.ofType('AWS::Kinesis::Stream').find((id) => template.attribute(id, 'Arn') === source.KinesisStreamARN)!;
  const streamKey = (template.resources[stream]!.Properties!.StreamEncryption as { KeyId: string }).KeyId;
  const logStream = `arn:${partition}:logs:${region}:${account}:log-group:${destination.CloudWatchLoggingOptions.LogGroupName}:log-stream:${destination.CloudWatchLoggingOptions.LogStreamName}`;
  const allowed = (action: string, resource: string, context?: Record<string, string>): AuthorizationCheck => ({
    name: `archive Firehose: ${action} on ${resource.split(/[:/]/).filter(Boolean).slice(-2).join('/')}`,
    request: { principal, action, resource, context },
    expected: 'Allowed',
  });
  const denied = (what: string, action: string, resource: string): AuthorizationCheck => ({
    name: `archive Firehose cannot ${action} on ${what}`,
    request: { principal, action, resource },
    expected: 'Denied',
  });
  const otherBuckets = template
    .ofType('AWS::S3::Bucket')
    .map((id) => template.attribute(id, 'Arn'))
    .filter((arn) => arn !== destination.BucketARN);
  return [
    ...['kinesis:DescribeStream', 'kinesis:GetShardIterator', 'kinesis:GetRecords', 'kinesis:ListShards'].map((action) =>
      allowed(action, source.KinesisStreamARN),
    ),
    allowed('kms:Decrypt', awsManagedKeyArn(template, streamKey), {
      'kms:ViaService': `kinesis.${region}.amazonaws.com`,
      'kms:CallerAccount': account,
    }),
    ...['s3:GetBucketLocation', 's3:ListBucket', 's3:ListBucketMultipartUploads'].map((action) => allowed(action, destination.BucketARN)),
    ...['s3:PutObject', 's3:GetObject', 's3:AbortMultipartUpload'].flatMap((action) => [
      allowed(action, object),
      allowed(action, errorObject),
    ]),
    allowed('logs:PutLogEvents', logStream),
    denied('archive objects', 's3:DeleteObject', object),
    denied('the archive bucket', 's3:PutLifecycleConfiguration', destination.BucketARN),
    denied('the event stream', 'kinesis:PutRecords', source.KinesisStreamARN),
    denied('the aws/kinesis key outside Kinesis', 'kms:Decrypt', awsManagedKeyArn(template, streamKey)),
    ...otherBuckets.flatMap((bucketArn) => [
      denied(bucketArn.split(':').pop()!, 's3:PutObject', `${bucketArn}/x`),
      denied(bucketArn.split(':').pop()!, 's3:GetObject', `${bucketArn}/x`),
    ]),
    withoutTlsRefused('archive Firehose: s3:PutObject without TLS is refused', principal, 's3:PutObject', object),
    // The Lambdas never read the archive: investigations go through Athena with the user's own rights.
    ...(Object.keys(LAMBDAS) as LambdaName[]).map((lambda) => ({
      name: `${lambda} cannot read the archive`,
      request: { principal: policies.lambdaPrincipal(functionOf(template, lambda)), action: 's3:GetObject', resource: object },
      expected: 'Denied' as const,
    })),
  ];
}

/** What must stay impossible. */
function denials(template: ResolvedTemplate, policies: DeploymentPolicies): AuthorizationCheck[] {
  const { partition, region, account } = template.env;
  const puller = functionOf(template, 'puller');
  const detections = functionOf(template, 'detections');
  const pullerPrincipal = policies.lambdaPrincipal(puller);
  const secret = (name: string) => `arn:${partition}:secretsmanager:${region}:${account}:secret:${name}-AbC123`;
  const prefix = template.resources[puller]!.Properties!.Environment as { Variables: Record<string, string> };
  const sourcePrefix = prefix.Variables.SOURCE_SECRET_PREFIX!;
  const checks: AuthorizationCheck[] = [
    {
      name: 'puller cannot read a secret outside the source prefix',
      request: { principal: pullerPrincipal, action: 'secretsmanager:GetSecretValue', resource: secret('prod/database') },
      expected: 'Denied',
    },
    {
      name: 'puller cannot read a secret whose name only starts like the prefix',
      request: {
        principal: pullerPrincipal,
        action: 'secretsmanager:GetSecretValue',
        resource: secret(`${sourcePrefix.replace(/\/$/, '')}-other/acme`),
      },
      expected: 'Denied',
    },
    {
      name: 'detections cannot read source secrets',
      request: {
        principal: policies.lambdaPrincipal(detections),
        action: 'secretsmanager:GetSecretValue',
        resource: targetArn(template, puller, 'sourceSecret'),
      },
      expected: 'Denied',
    },
  ];
  // The puller deletes and reconfigures nothing, on anything it touches or anything else of the stack.
  const destructive: Array<[string, string]> = [
    ['secretsmanager:DeleteSecret', targetArn(template, puller, 'sourceSecret')],
    ['secretsmanager:PutSecretValue', targetArn(template, puller, 'sourceSecret')],
    ['secretsmanager:UpdateSecret', targetArn(template, puller, 'sourceSecret')],
    ['secretsmanager:PutResourcePolicy', targetArn(template, puller, 'sourceSecret')],
    ['dynamodb:DeleteItem', targetArn(template, puller, 'cursorTable')],
    ['dynamodb:DeleteTable', targetArn(template, puller, 'cursorTable')],
    ['dynamodb:UpdateTable', targetArn(template, puller, 'cursorTable')],
    ['kinesis:DeleteStream', targetArn(template, puller, 'stream')],
    ['kinesis:StopStreamEncryption', targetArn(template, puller, 'stream')],
    ['kinesis:DecreaseStreamRetentionPeriod', targetArn(template, puller, 'stream')],
    ['s3:DeleteObject', targetArn(template, puller, 'quarantineObject')],
    ['s3:GetObject', targetArn(template, puller, 'quarantineObject')],
  ];
  for (const bucket of template.ofType('AWS::S3::Bucket')) {
    destructive.push(
      ['s3:DeleteBucket', template.attribute(bucket, 'Arn')],
      ['s3:PutBucketPolicy', template.attribute(bucket, 'Arn')],
      ['s3:PutLifecycleConfiguration', template.attribute(bucket, 'Arn')],
    );
  }
  for (const id of template.ofType('AWS::Lambda::Function')) {
    destructive.push(
      ['lambda:UpdateFunctionConfiguration', template.attribute(id, 'Arn')],
      ['lambda:UpdateFunctionCode', template.attribute(id, 'Arn')],
      ['lambda:PutFunctionConcurrency', template.attribute(id, 'Arn')],
    );
  }
  for (const id of template.ofType('AWS::Events::Rule'))
    destructive.push(['events:DisableRule', template.attribute(id, 'Arn')], ['events:DeleteRule', template.attribute(id, 'Arn')]);
  for (const id of template.ofType('AWS::IAM::Role'))
    destructive.push(['iam:PutRolePolicy', template.attribute(id, 'Arn')], ['iam:AttachRolePolicy', template.attribute(id, 'Arn')]);
  for (const id of template.ofType('AWS::KMS::Key'))
    destructive.push(['kms:ScheduleKeyDeletion', template.attribute(id, 'Arn')], ['kms:PutKeyPolicy', template.attribute(id, 'Arn')]);
  for (const id of template.ofType('AWS::SNS::Topic'))
    destructive.push(
      ['sns:DeleteTopic', template.ref(id)],
      ['sns:SetTopicAttributes', template.ref(id)],
      ['sns:Unsubscribe', template.ref(id)],
    );
  for (const id of template.ofType('AWS::SQS::Queue'))
    destructive.push(['sqs:DeleteQueue', template.attribute(id, 'Arn')], ['sqs:PurgeQueue', template.attribute(id, 'Arn')]);
  for (const id of template.ofType('AWS::CloudWatch::Alarm'))
    destructive.push(
      ['cloudwatch:DeleteAlarms', template.attribute(id, 'Arn')],
      ['cloudwatch:DisableAlarmActions', template.attribute(id, 'Arn')],
    );
  for (const id of template.ofType('AWS::Logs::LogGroup'))
    destructive.push(['logs:DeleteLogGroup', template.attribute(id, 'Arn')], ['logs:PutRetentionPolicy', template.attribute(id, 'Arn')]);
  for (const [action, resource] of destructive) {
    checks.push({
      name: `puller cannot ${action} on ${resource.split(/[:/]/).filter(Boolean).pop()}`,
      request: { principal: pullerPrincipal, action, resource },
      expected: 'Denied',
    });
  }
  // No other account, and no other account's alarms through CloudWatch, publishes to any topic.
  for (const topic of template.ofType('AWS::SNS::Topic')) {
    const topicArn = template.ref(topic);
    const name = topicArn.split(':').pop();
    checks.push(
      otherAccountDenied(`another account cannot publish to ${name}`, 'sns:Publish', topicArn),
      {
        name: `another account's alarms cannot publish to ${name} through CloudWatch`,
        request: {
          principal: 'cloudwatch.amazonaws.com',
          action: 'sns:Publish',
          resource: topicArn,
          context: {
            'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${OTHER_ACCOUNT}:alarm:${template.env.stackName}-SourceDropOff`,
            'aws:SourceAccount': OTHER_ACCOUNT,
          },
        },
        expected: 'Denied',
      },
      {
        name: `an alarm of another stack in the account cannot publish to ${name} through CloudWatch`,
        request: {
          principal: 'cloudwatch.amazonaws.com',
          action: 'sns:Publish',
          resource: topicArn,
          context: serviceContext(template, `arn:${partition}:cloudwatch:${region}:${account}:alarm:SomeoneElse-Alarm`),
        },
        expected: 'Denied',
      },
      withoutTlsRefused(`publishing to ${name} without TLS is refused`, policies.lambdaPrincipal(detections), 'sns:Publish', topicArn),
    );
  }
  // Nothing of the stack is open to another account, and the TLS-only Deny of each bucket and queue holds.
  for (const bucket of template.ofType('AWS::S3::Bucket')) {
    const objects = `${template.attribute(bucket, 'Arn')}/any-object`;
    checks.push(
      otherAccountDenied(`another account cannot s3:GetObject from ${template.ref(bucket)}`, 's3:GetObject', objects),
      otherAccountDenied(`another account cannot s3:PutObject into ${template.ref(bucket)}`, 's3:PutObject', objects),
      withoutTlsRefused(`s3:PutObject into ${template.ref(bucket)} without TLS is refused`, pullerPrincipal, 's3:PutObject', objects),
    );
  }
  for (const queue of template.ofType('AWS::SQS::Queue')) {
    const queueArn = template.attribute(queue, 'Arn');
    checks.push(
      otherAccountDenied(
        `another account cannot sqs:SendMessage to ${template.attribute(queue, 'QueueName')}`,
        'sqs:SendMessage',
        queueArn,
      ),
      withoutTlsRefused(
        `sqs:SendMessage to ${template.attribute(queue, 'QueueName')} without TLS is refused`,
        policies.lambdaPrincipal(detections),
        'sqs:SendMessage',
        queueArn,
      ),
    );
  }
  for (const id of template.ofType('AWS::Lambda::Function')) {
    const functionArn = template.attribute(id, 'Arn');
    checks.push(otherAccountDenied(`another account cannot invoke ${template.ref(id)}`, 'lambda:InvokeFunction', functionArn), {
      name: `an EventBridge rule of another account cannot invoke ${template.ref(id)}`,
      request: {
        principal: 'events.amazonaws.com',
        action: 'lambda:InvokeFunction',
        resource: functionArn,
        context: { 'aws:SourceArn': `arn:${partition}:events:${region}:${OTHER_ACCOUNT}:rule/any`, 'aws:SourceAccount': OTHER_ACCOUNT },
      },
      expected: 'Denied',
    });
  }
  for (const id of template.ofType('AWS::KMS::Key')) {
    checks.push(otherAccountDenied(`another account cannot kms:Decrypt with ${id}`, 'kms:Decrypt', template.attribute(id, 'Arn')));
  }
  return checks;
}

export function authorizationChecks(template: ResolvedTemplate, policies: DeploymentPolicies): AuthorizationCheck[] {
  return [
    ...lambdaCalls(template, policies),
    ...servicePaths(template),
    ...archivePaths(template, policies),
    ...denials(template, policies),
  ];
}

/** Each check the evaluator decides differently from what it expects, with its decision. */
export async function failedChecks(
  policies: DeploymentPolicies,
  checks: readonly AuthorizationCheck[],
): Promise<Array<{ name: string; decision: Decision }>> {
  const failed: Array<{ name: string; decision: Decision }> = [];
  for (const check of checks) {
    const decision = await policies.evaluate(check.request);
    const ok = check.expected === 'Denied' ? decision !== 'Allowed' : decision === check.expected;
    if (!ok) failed.push({ name: check.name, decision });
  }
  return failed;
}
