/**
 * THE table of AWS API calls: every call each Lambda makes (or that AWS makes with the function's
 * role on its behalf) and the resource it targets. `api-calls.test.ts` keeps it equal to the
 * commands the adapters import and send; `authorization.test.ts` proves against the synthesised
 * template, with an IAM policy evaluator, that each one is allowed. A new adapter command, a new
 * Lambda or a new resource starts with a row here.
 */
import type { ResolvedTemplate } from '../cfn/resolve-template';
import { awsManagedKeyArn } from './evaluate';

export type LambdaName = 'puller' | 'detections';

/** The handler each Lambda's bundle starts from, and how its function is found in the template. */
export const LAMBDAS: Readonly<Record<LambdaName, { readonly entry: string; readonly environmentKey: string }>> = {
  puller: { entry: 'lambdas/puller/handler.ts', environmentKey: 'SOURCE_SECRET_PREFIX' },
  detections: { entry: 'lambdas/detections/handler.ts', environmentKey: 'STATE_TABLE_NAME' },
};

/**
 * Who sends the request: an SDK command of the Lambda's adapters (`sdk`); a service acting with
 * the caller's credentials because of one (`kms` calls of SNS and Kinesis server-side encryption);
 * the Lambda service for the function (logs, the event source mapping and its on-failure
 * destination).
 */
export type Caller =
  'sdk' | 'sns:Publish' | 'kinesis:PutRecords' | 'secretsmanager:GetSecretValue' | 'lambda-runtime' | 'event-source-mapping';

/** What a call targets, found from the function's own wiring in the template. */
export type Target =
  | 'anyResource'
  | 'sourceSecret'
  | 'sourceSecretKey'
  | 'cursorTable'
  | 'stream'
  | 'streamKey'
  | 'quarantineObject'
  | 'stateTable'
  | 'alertsTopic'
  | 'alertsTopicKey'
  | 'ownLogStream'
  | 'eventSourceStream'
  | 'eventSourceStreamKey'
  | 'onFailureQueue';

export interface ApiCall {
  readonly action: string;
  readonly target: Target;
  readonly caller: Caller;
  /** Why, with the AWS document that says the call needs this permission when it is not the SDK call itself. */
  readonly why: string;
}

const KINESIS_SSE = 'https://docs.aws.amazon.com/streams/latest/dev/permissions-user-key-KMS.html';
const SNS_SSE = 'https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html';
const KINESIS_ESM = 'https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html (execution role permissions)';
const LOGS = 'https://docs.aws.amazon.com/lambda/latest/dg/monitoring-cloudwatchlogs.html';

const logs = (lambda: string): ApiCall[] => [
  {
    action: 'logs:CreateLogStream',
    target: 'ownLogStream',
    caller: 'lambda-runtime',
    why: `the ${lambda}'s log lines and EMF metrics (${LOGS})`,
  },
  {
    action: 'logs:PutLogEvents',
    target: 'ownLogStream',
    caller: 'lambda-runtime',
    why: `the ${lambda}'s log lines and EMF metrics (${LOGS})`,
  },
];

export const API_CALLS: Readonly<Record<LambdaName, readonly ApiCall[]>> = {
  puller: [
    {
      action: 'secretsmanager:ListSecrets',
      target: 'anyResource',
      caller: 'sdk',
      why: 'the source registry lists the secrets under the prefix (no resource-level permission exists)',
    },
    { action: 'secretsmanager:GetSecretValue', target: 'sourceSecret', caller: 'sdk', why: 'the source registry reads a source secret' },
    {
      action: 'kms:Decrypt',
      target: 'sourceSecretKey',
      caller: 'secretsmanager:GetSecretValue',
      why: "a secret under the default aws/secretsmanager key is decrypted with the caller's credentials (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html)",
    },
    { action: 'dynamodb:BatchGetItem', target: 'cursorTable', caller: 'sdk', why: 'the cursor store reads cursors and activity' },
    {
      action: 'dynamodb:UpdateItem',
      target: 'cursorTable',
      caller: 'sdk',
      why: 'the cursor store takes leases and saves cursors with conditional updates',
    },
    { action: 'kinesis:PutRecords', target: 'stream', caller: 'sdk', why: 'the record sink writes normalised events' },
    {
      action: 'kms:GenerateDataKey',
      target: 'streamKey',
      caller: 'kinesis:PutRecords',
      why: `producers of an encrypted stream need kms:GenerateDataKey (${KINESIS_SSE})`,
    },
    { action: 's3:PutObject', target: 'quarantineObject', caller: 'sdk', why: 'the quarantine writes one object per invalid event' },
    ...logs('puller'),
  ],
  detections: [
    { action: 'dynamodb:GetItem', target: 'stateTable', caller: 'sdk', why: "the state store reads a rule's state" },
    { action: 'dynamodb:PutItem', target: 'stateTable', caller: 'sdk', why: 'the state store writes it back with a version condition' },
    { action: 'sns:Publish', target: 'alertsTopic', caller: 'sdk', why: 'the alert publisher' },
    {
      action: 'kms:GenerateDataKey',
      target: 'alertsTopicKey',
      caller: 'sns:Publish',
      why: `publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt (${SNS_SSE})`,
    },
    {
      action: 'kms:Decrypt',
      target: 'alertsTopicKey',
      caller: 'sns:Publish',
      why: `publishing to an encrypted topic needs kms:GenerateDataKey and kms:Decrypt (${SNS_SSE})`,
    },
    ...[
      'kinesis:DescribeStream',
      'kinesis:DescribeStreamSummary',
      'kinesis:GetRecords',
      'kinesis:GetShardIterator',
      'kinesis:ListShards',
    ].map((action): ApiCall => ({
      action,
      target: 'eventSourceStream',
      caller: 'event-source-mapping',
      why: `the event source mapping reads the stream with the function's role (${KINESIS_ESM})`,
    })),
    {
      action: 'kms:Decrypt',
      target: 'eventSourceStreamKey',
      caller: 'event-source-mapping',
      why: `consumers of an encrypted stream need kms:Decrypt (${KINESIS_SSE})`,
    },
    {
      action: 'sqs:SendMessage',
      target: 'onFailureQueue',
      caller: 'event-source-mapping',
      why: "the mapping sends a failed batch's position to its on-failure destination with the function's role (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html)",
    },
    ...logs('detections'),
  ],
};

/** The logical id of a Lambda's function in the template (by an environment key only it has). */
export function functionOf(template: ResolvedTemplate, lambda: LambdaName): string {
  const key = LAMBDAS[lambda].environmentKey;
  const found = template.ofType('AWS::Lambda::Function').filter((id) => {
    const variables = (template.resources[id]!.Properties!.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables;
    return variables?.[key] !== undefined;
  });
  if (found.length !== 1) throw new Error(`expected one function with ${key} for the ${lambda}, found ${found.length}`);
  return found[0]!;
}

function environmentOf(template: ResolvedTemplate, functionId: string, variable: string): string {
  const value = (template.resources[functionId]!.Properties!.Environment as { Variables: Record<string, unknown> }).Variables[variable];
  if (typeof value !== 'string') throw new Error(`${functionId} has no environment variable ${variable}`);
  return value;
}

function eventSourceMappingOf(template: ResolvedTemplate, functionId: string): Record<string, unknown> {
  const found = template
    .ofType('AWS::Lambda::EventSourceMapping')
    .map((id) => template.resources[id]!.Properties!)
    .filter((mapping) => mapping.FunctionName === template.ref(functionId));
  if (found.length !== 1) throw new Error(`expected one event source mapping of ${functionId}, found ${found.length}`);
  return found[0]!;
}

/** The KMS key a stream is encrypted with, as the ARN requests name. */
function streamKeyOf(template: ResolvedTemplate, streamArn: string): string {
  const stream = template.ofType('AWS::Kinesis::Stream').find((id) => template.attribute(id, 'Arn') === streamArn);
  if (stream === undefined) throw new Error(`no stream ${streamArn} in the template`);
  const encryption = template.resources[stream]!.Properties!.StreamEncryption as { EncryptionType: string; KeyId: string } | undefined;
  if (encryption?.EncryptionType !== 'KMS') throw new Error(`stream ${stream} is not KMS-encrypted`);
  return encryption.KeyId.startsWith('alias/aws/') ? awsManagedKeyArn(template, encryption.KeyId) : encryption.KeyId;
}

function arnOf(template: ResolvedTemplate, service: string, resource: string): string {
  const { partition, region, account } = template.env;
  return `arn:${partition}:${service}:${region}:${account}:${resource}`;
}

/** A concrete ARN for each target of a Lambda, read from the function's wiring in the template. */
export function targetArn(template: ResolvedTemplate, functionId: string, target: Target): string {
  const env = (variable: string) => environmentOf(template, functionId, variable);
  switch (target) {
    case 'anyResource':
      return '*';
    case 'sourceSecret':
      // Secrets Manager appends "-" and six random characters to every secret's ARN.
      return arnOf(template, 'secretsmanager', `secret:${env('SOURCE_SECRET_PREFIX')}acme-AbC123`);
    case 'sourceSecretKey':
      return awsManagedKeyArn(template, 'alias/aws/secretsmanager');
    case 'cursorTable':
      return arnOf(template, 'dynamodb', `table/${env('CURSOR_TABLE_NAME')}`);
    case 'stream':
      return arnOf(template, 'kinesis', `stream/${env('STREAM_NAME')}`);
    case 'streamKey':
      return streamKeyOf(template, targetArn(template, functionId, 'stream'));
    case 'quarantineObject':
      return `arn:${template.env.partition}:s3:::${env('QUARANTINE_BUCKET_NAME')}/acme/2026/01/01/00000000-0000-4000-8000-000000000000.json`;
    case 'stateTable':
      return arnOf(template, 'dynamodb', `table/${env('STATE_TABLE_NAME')}`);
    case 'alertsTopic':
      return env('ALERTS_TOPIC_ARN');
    case 'alertsTopicKey': {
      const topic = template.ofType('AWS::SNS::Topic').find((id) => template.ref(id) === env('ALERTS_TOPIC_ARN'));
      return template.resources[topic!]!.Properties!.KmsMasterKeyId as string;
    }
    case 'ownLogStream': {
      const logGroup = (template.resources[functionId]!.Properties!.LoggingConfig as { LogGroup: string }).LogGroup;
      return arnOf(template, 'logs', `log-group:${logGroup}:log-stream:2026/01/01/[$LATEST]0123456789abcdef`);
    }
    case 'eventSourceStream':
      return eventSourceMappingOf(template, functionId).EventSourceArn as string;
    case 'eventSourceStreamKey':
      return streamKeyOf(template, targetArn(template, functionId, 'eventSourceStream'));
    case 'onFailureQueue':
      return (eventSourceMappingOf(template, functionId).DestinationConfig as { OnFailure: { Destination: string } }).OnFailure.Destination;
  }
}
