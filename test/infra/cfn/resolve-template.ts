/**
 * Resolves a synthesised CloudFormation template's intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub,
 * Fn::Select, Fn::Split, pseudo parameters) to the concrete values CloudFormation would give them
 * in one account and region, so that an IAM policy evaluator can compare real ARNs and the
 * resource schemas see real strings. Physical names are invented (`<stack>-<logicalId>`, as
 * CloudFormation invents them) unless the template sets one.
 *
 * Return values per type follow each type's "Return values" section of the CloudFormation
 * template reference (https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/).
 * A Ref or Fn::GetAtt of a type missing from RETURN_VALUES fails the resolution: add it there, once.
 */

export interface DeploymentEnv {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly stackName: string;
}

export const TEST_ENV: DeploymentEnv = { account: '111122223333', region: 'eu-west-1', partition: 'aws', stackName: 'OktaLogPipeline' };

export interface TemplateResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export interface CfnTemplate {
  readonly Resources: Record<string, TemplateResource>;
  readonly Parameters?: Record<string, { Default?: unknown }>;
  readonly [key: string]: unknown;
}

interface ReturnValues {
  readonly ref: string;
  readonly attributes: Readonly<Record<string, string>>;
}

type ReturnValuesOf = (name: string, env: DeploymentEnv, logicalId: string) => ReturnValues;

const arn = (env: DeploymentEnv, service: string, resource: string, region = env.region, account = env.account): string =>
  `arn:${env.partition}:${service}:${region}:${account}:${resource}`;

/** A stable, well-formed key id for a logical id (CloudFormation returns a UUID). */
function keyIdOf(logicalId: string): string {
  let hash = 0;
  for (const char of logicalId) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return `0000${hash.toString(16).padStart(8, '0')}-0000-4000-8000-${logicalId.length.toString(16).padStart(12, '0')}`;
}

/** The property a type's physical name is set by, when the template sets it. */
const NAME_PROPERTY: Readonly<Record<string, string>> = {
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::Events::Rule': 'Name',
  'AWS::IAM::Role': 'RoleName',
  'AWS::Kinesis::Stream': 'Name',
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::KinesisFirehose::DeliveryStream': 'DeliveryStreamName',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::Logs::LogStream': 'LogStreamName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::SQS::Queue': 'QueueName',
};

/** One entry per resource type the stack uses: what Ref and Fn::GetAtt return. */
export const RETURN_VALUES: Readonly<Record<string, ReturnValuesOf>> = {
  'AWS::CloudWatch::Alarm': (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'cloudwatch', `alarm:${name}`) } }),
  'AWS::CloudWatch::Dashboard': (name) => ({ ref: name, attributes: {} }),
  'AWS::DynamoDB::Table': (name, env) => ({
    ref: name,
    attributes: {
      Arn: arn(env, 'dynamodb', `table/${name}`),
      StreamArn: arn(env, 'dynamodb', `table/${name}/stream/2026-01-01T00:00:00.000`),
    },
  }),
  'AWS::Events::Rule': (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'events', `rule/${name}`) } }),
  'AWS::IAM::Policy': (name) => ({ ref: name, attributes: {} }),
  'AWS::IAM::Role': (name, env) => ({
    ref: name,
    attributes: { Arn: `arn:${env.partition}:iam::${env.account}:role/${name}`, RoleId: `AROA${name.length}EXAMPLE` },
  }),
  'AWS::Kinesis::Stream': (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'kinesis', `stream/${name}`) } }),
  'AWS::KinesisFirehose::DeliveryStream': (name, env) => ({
    ref: name,
    attributes: { Arn: arn(env, 'firehose', `deliverystream/${name}`) },
  }),
  'AWS::KMS::Key': (_name, env, logicalId) => {
    const keyId = keyIdOf(logicalId);
    return { ref: keyId, attributes: { Arn: arn(env, 'kms', `key/${keyId}`), KeyId: keyId } };
  },
  'AWS::Lambda::EventInvokeConfig': (name) => ({ ref: name, attributes: {} }),
  'AWS::Lambda::EventSourceMapping': (_name, _env, logicalId) => ({ ref: keyIdOf(logicalId), attributes: {} }),
  'AWS::Lambda::Function': (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'lambda', `function:${name}`) } }),
  'AWS::Lambda::Permission': (name) => ({ ref: name, attributes: {} }),
  'AWS::Logs::LogGroup': (name, env) => ({ ref: name, attributes: { Arn: arn(env, 'logs', `log-group:${name}:*`) } }),
  'AWS::Logs::LogStream': (name) => ({ ref: name, attributes: {} }),
  'AWS::S3::Bucket': (name, env) => ({
    ref: name,
    attributes: {
      Arn: `arn:${env.partition}:s3:::${name}`,
      DomainName: `${name}.s3.amazonaws.com`,
      RegionalDomainName: `${name}.s3.${env.region}.amazonaws.com`,
    },
  }),
  'AWS::S3::BucketPolicy': (name) => ({ ref: name, attributes: {} }),
  'AWS::SNS::Subscription': (name, env) => ({ ref: arn(env, 'sns', `${name}:subscription`), attributes: {} }),
  'AWS::SNS::Topic': (name, env) => ({ ref: arn(env, 'sns', name), attributes: { TopicArn: arn(env, 'sns', name), TopicName: name } }),
  'AWS::SNS::TopicPolicy': (name) => ({ ref: name, attributes: {} }),
  'AWS::SQS::Queue': (name, env) => ({
    ref: `https://sqs.${env.region}.amazonaws.com/${env.account}/${name}`,
    attributes: { Arn: arn(env, 'sqs', name), QueueName: name, QueueUrl: `https://sqs.${env.region}.amazonaws.com/${env.account}/${name}` },
  }),
  'AWS::SQS::QueuePolicy': (name) => ({ ref: name, attributes: {} }),
};

/** A template whose every intrinsic is resolved, with the lookups that resolution used. */
export class ResolvedTemplate {
  readonly resources: Readonly<Record<string, TemplateResource>>;
  private readonly returnValues = new Map<string, ReturnValues>();

  constructor(
    readonly template: CfnTemplate,
    readonly env: DeploymentEnv = TEST_ENV,
  ) {
    for (const [logicalId, resource] of Object.entries(template.Resources)) {
      // A type nothing refers to needs no entry; a Ref or Fn::GetAtt of it fails in lookup().
      const returnValuesOf = RETURN_VALUES[resource.Type];
      if (returnValuesOf === undefined) continue;
      const nameProperty = NAME_PROPERTY[resource.Type];
      const given = nameProperty === undefined ? undefined : resource.Properties?.[nameProperty];
      // Names set in the template are plain strings in this stack; anything else is invented.
      const name = typeof given === 'string' ? given : this.inventName(resource.Type, logicalId);
      this.returnValues.set(logicalId, returnValuesOf(name, env, logicalId));
    }
    this.resources = Object.fromEntries(
      Object.entries(template.Resources).map(([logicalId, resource]) => [
        logicalId,
        { ...resource, Properties: this.resolve(resource.Properties ?? {}) as Record<string, unknown> },
      ]),
    );
  }

  /** What `Ref` of a logical id returns. */
  ref(logicalId: string): string {
    return this.lookup(logicalId).ref;
  }

  /** What `Fn::GetAtt` returns. */
  attribute(logicalId: string, attribute: string): string {
    const value = this.lookup(logicalId).attributes[attribute];
    if (value === undefined)
      throw new Error(
        `resolve-template: ${logicalId} (${this.template.Resources[logicalId]!.Type}) has no attribute ${attribute} in RETURN_VALUES`,
      );
    return value;
  }

  /** The logical ids of every resource of `type`. */
  ofType(type: string): string[] {
    return Object.keys(this.resources).filter((id) => this.resources[id]!.Type === type);
  }

  /** Resolves any value of the template: intrinsics become concrete strings, `AWS::NoValue` drops out. */
  resolve(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.resolve(item)).filter((item) => item !== NO_VALUE);
    if (value === null || typeof value !== 'object') return value;
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length === 1) {
      const [key, argument] = entries[0]!;
      if (key === 'Ref' || key.startsWith('Fn::')) return this.intrinsic(key, argument);
    }
    const resolved: Record<string, unknown> = {};
    for (const [key, item] of entries) {
      const result = this.resolve(item);
      if (result !== NO_VALUE) resolved[key] = result;
    }
    return resolved;
  }

  private inventName(type: string, logicalId: string): string {
    const name = `${this.env.stackName}-${logicalId}`;
    // Bucket names are lower case and at most 63 characters; the others take this form as is.
    return type === 'AWS::S3::Bucket' ? name.toLowerCase().slice(0, 63) : name;
  }

  private lookup(logicalId: string): ReturnValues {
    const found = this.returnValues.get(logicalId);
    if (found === undefined) {
      const type = this.template.Resources[logicalId]?.Type;
      throw new Error(
        type === undefined
          ? `resolve-template: no resource ${logicalId}`
          : `resolve-template: no return values for ${type} (${logicalId}); add the type to RETURN_VALUES`,
      );
    }
    return found;
  }

  private string(value: unknown, context: string): string {
    const resolved = this.resolve(value);
    if (typeof resolved !== 'string') throw new Error(`resolve-template: ${context} resolved to ${JSON.stringify(resolved)}, not a string`);
    return resolved;
  }

  private intrinsic(name: string, argument: unknown): unknown {
    switch (name) {
      case 'Ref':
        return this.refOf(argument as string);
      case 'Fn::GetAtt': {
        const [logicalId, attribute] =
          typeof argument === 'string' ? (argument.split(/\.(.*)/s) as [string, string]) : (argument as [string, string]);
        return this.attribute(logicalId, attribute);
      }
      case 'Fn::Join': {
        const [delimiter, parts] = argument as [string, unknown[]];
        return (this.resolve(parts) as unknown[]).map((part) => this.string(part, 'Fn::Join part')).join(delimiter);
      }
      case 'Fn::Sub': {
        const [text, variables] = typeof argument === 'string' ? [argument, {}] : (argument as [string, Record<string, unknown>]);
        return text.replace(/\$\{([^}!]+)\}/g, (_match, reference: string) => {
          if (reference in variables) return this.string(variables[reference], `Fn::Sub variable ${reference}`);
          const [logicalId, attribute] = reference.split(/\.(.*)/s);
          return attribute === undefined
            ? this.string({ Ref: logicalId }, `Fn::Sub reference ${reference}`)
            : this.attribute(logicalId!, attribute);
        });
      }
      case 'Fn::Select': {
        const [index, list] = argument as [unknown, unknown];
        const items = this.resolve(list) as unknown[];
        return items[Number(this.resolve(index))];
      }
      case 'Fn::Split': {
        const [delimiter, text] = argument as [string, unknown];
        return this.string(text, 'Fn::Split').split(delimiter);
      }
      default:
        throw new Error(`resolve-template: intrinsic ${name} is not supported; add it to ResolvedTemplate.intrinsic`);
    }
  }

  private refOf(name: string): unknown {
    switch (name) {
      case 'AWS::AccountId':
        return this.env.account;
      case 'AWS::Region':
        return this.env.region;
      case 'AWS::Partition':
        return this.env.partition;
      case 'AWS::StackName':
        return this.env.stackName;
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackId':
        return arn(this.env, 'cloudformation', `stack/${this.env.stackName}/00000000-0000-4000-8000-000000000000`);
      case 'AWS::NoValue':
        return NO_VALUE;
      default: {
        const parameter = this.template.Parameters?.[name];
        if (parameter !== undefined) return parameter.Default;
        return this.ref(name);
      }
    }
  }
}

const NO_VALUE = Symbol('AWS::NoValue');
