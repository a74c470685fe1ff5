/**
 * Validates each resource's Properties of a resolved template against CloudFormation's resource
 * provider schema for its type (copied from cfn-lint with their provenance: ../cfn-schemas/README.md),
 * with ajv. The schemas are JSON Schema draft 7 plus CloudFormation's metadata keywords and
 * cfn-lint's validation keywords, and their patterns are Python regular expressions; this module
 * bridges those three differences and nothing else.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { ResolvedTemplate } from './resolve-template';

const SCHEMA_DIR = path.resolve(__dirname, '..', 'cfn-schemas');

/** The schema file of a type: `AWS::SNS::Topic` → providers/AWS_SNS_Topic.json. */
export function schemaFileOf(type: string): string {
  return path.join(SCHEMA_DIR, 'providers', `${type.replace(/::/g, '_')}.json`);
}

/**
 * Extension schemas and where in a resource's Properties they apply (cfn-lint applies most to the
 * Properties, Lambda's reserved environment names to Environment/Variables: rule E3663).
 */
export const EXTENSIONS: ReadonlyArray<{ readonly type: string; readonly file: string; readonly at?: readonly string[] }> = [
  { type: 'AWS::CloudWatch::Alarm', file: 'ext/aws_cloudwatch_alarm/period.json' },
  { type: 'AWS::CloudWatch::Alarm', file: 'project/aws_cloudwatch_alarm/metrics_period.json' },
  { type: 'AWS::Lambda::EventSourceMapping', file: 'ext/aws_lambda_eventsourcemapping/eventsourcearn_sqs_exclusive.json' },
  { type: 'AWS::Lambda::EventSourceMapping', file: 'ext/aws_lambda_eventsourcemapping/eventsourcearn_stream_inclusive.json' },
  { type: 'AWS::Lambda::Function', file: 'ext/aws_lambda_function/environment_variable_keys.json', at: ['Environment', 'Variables'] },
  { type: 'AWS::S3::Bucket', file: 'ext/aws_s3_bucket/ownershipcontrols.json' },
  { type: 'AWS::SQS::Queue', file: 'ext/aws_sqs_queue/properties.json' },
];

/** CloudFormation's metadata keywords (resource provider definition schema): annotations for a template. */
const ANNOTATIONS = [
  'insertionOrder',
  'typeName',
  'primaryIdentifier',
  'additionalIdentifiers',
  'taggable',
  'tagging',
  'createOnlyProperties',
  'conditionalCreateOnlyProperties',
  'writeOnlyProperties',
  'deprecatedProperties',
  'sourceUrl',
  'documentationUrl',
  'relationshipRef',
  'propertyTransform',
  'handlers',
  'replacementStrategy',
  'arrayType',
];

/**
 * cfn-lint's formats for values that name another resource (`AWS::KMS::Key.Arn`, ...), as
 * resolved intrinsics give them: ARNs and names in this project's shape.
 */
const RESOURCE_FORMATS: Readonly<Record<string, RegExp>> = {
  'AWS::EC2::SecurityGroup.Id': /^sg-[0-9a-f]+$/,
  'AWS::EC2::SecurityGroup.Ids': /^sg-[0-9a-f]+$/,
  'AWS::EC2::Subnet.Id': /^subnet-[0-9a-f]+$/,
  'AWS::EC2::Subnet.Ids': /^subnet-[0-9a-f]+$/,
  'AWS::IAM::Role.Arn': /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/,
  'AWS::KMS::Alias.AliasName': /^alias\/.+$/,
  'AWS::KMS::Key.Arn': /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key|alias)\/.+$/,
  'AWS::KMS::Key.Id': /^([0-9a-f-]{36}|mrk-[0-9a-f]{32}|alias\/.+|arn:aws[a-z-]*:kms:.+)$/,
  'AWS::Lambda::Function.Arn': /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[^:]+(:[^:]+)?$/,
  'AWS::Logs::LogGroup.Name': /^[.\-_/#A-Za-z0-9]{1,512}$/,
  'AWS::S3::Bucket.Name': /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
  'AWS::SNS::Topic.Arn': /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/,
  'AWS::SQS::Queue.Arn': /^arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?$/,
};

/** Python's `\A` and `\Z` (start and end of input) in JavaScript; `(?P<name>` named groups likewise. */
export function pythonPatternToJs(pattern: string): string {
  return pattern
    .replace(/(?<!\\)((?:\\\\)*)\\A/g, '$1^')
    .replace(/(?<!\\)((?:\\\\)*)\\Z/g, '$1$')
    .replace(/\(\?P</g, '(?<');
}

/** The schema with Python patterns converted and the meta-schema reference dropped (ajv would fetch it). */
function prepare(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(prepare);
  if (schema === null || typeof schema !== 'object') return schema;
  const prepared: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema as Record<string, unknown>)) {
    if (key === '$schema') continue;
    if (key === 'pattern' && typeof value === 'string') prepared[key] = pythonPatternToJs(value);
    else if (key === 'patternProperties' && value !== null && typeof value === 'object') {
      prepared[key] = Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([pattern, sub]) => [pythonPatternToJs(pattern), prepare(sub)]),
      );
    } else prepared[key] = prepare(value);
  }
  return prepared;
}

function readJson(relative: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(SCHEMA_DIR, relative), 'utf8')) as Record<string, unknown>;
}

function newAjv(): Ajv {
  // strictTuples off: cfn-lint's prefixItems becomes draft 7's tuple `items` below.
  // unicodeRegExp off: Python accepts escapes such as `\-` outside a class that JavaScript's u flag refuses.
  const ajv = new Ajv({
    allErrors: true,
    strict: true,
    unicodeRegExp: false,
    strictTuples: false,
    strictRequired: false,
    strictTypes: false,
    allowUnionTypes: true,
    $data: true,
  });
  addFormats(ajv);
  ajv.addFormat('json', {
    validate: (value: string) => {
      try {
        JSON.parse(value);
        return true;
      } catch {
        return false;
      }
    },
  });
  for (const [name, pattern] of Object.entries(RESOURCE_FORMATS)) ajv.addFormat(name, pattern);
  for (const keyword of ANNOTATIONS) ajv.addKeyword({ keyword });
  // A property CloudFormation computes may not be set in a template (cfn-lint E3012's read-only check).
  ajv.addKeyword({
    keyword: 'readOnlyProperties',
    macro: (paths: string[]) => {
      const topLevel = paths
        .map((pointer) => /^\/properties\/([^/]+)$/.exec(pointer)?.[1])
        .filter((name): name is string => name !== undefined);
      return topLevel.length === 0 ? true : { not: { anyOf: topLevel.map((name) => ({ required: [name] })) } };
    },
  });
  // cfn-lint's keywords (its own additions to the schemas), in standard JSON Schema.
  ajv.addKeyword({ keyword: 'requiredXor', macro: (names: string[]) => ({ oneOf: names.map((name) => ({ required: [name] })) }) });
  ajv.addKeyword({ keyword: 'requiredOr', macro: (names: string[]) => ({ anyOf: names.map((name) => ({ required: [name] })) }) });
  ajv.addKeyword({
    keyword: 'dependentExcluded',
    macro: (excluded: Record<string, string[]>) => ({
      allOf: Object.entries(excluded).map(([name, others]) => ({
        if: { required: [name] },
        then: { not: { anyOf: others.map((other) => ({ required: [other] })) } },
      })),
    }),
  });
  // Draft 2019-09 and 2020-12 keywords some schemas use, in their draft 7 form.
  ajv.addKeyword({ keyword: 'dependentRequired', macro: (dependencies: Record<string, string[]>) => ({ dependencies }) });
  ajv.addKeyword({ keyword: 'prefixItems', macro: (items: unknown[]) => ({ items }) });
  ajv.addKeyword({
    keyword: 'maxUniqueItems',
    type: 'array',
    validate: (max: number, data: unknown[]) => new Set(data.map((item) => JSON.stringify(item))).size <= max,
  });
  ajv.addKeyword({
    keyword: 'uniqueKeys',
    type: 'array',
    validate: (keys: string[], data: Array<Record<string, unknown>>) => {
      const seen = data.map((item) => JSON.stringify(keys.map((key) => item?.[key])));
      return new Set(seen).size === seen.length;
    },
  });
  return ajv;
}

export interface SchemaViolation {
  readonly logicalId: string;
  readonly type: string;
  readonly message: string;
}

function describeError(error: ErrorObject): string {
  return `${error.instancePath || '/'} ${error.message ?? error.keyword}${error.params && Object.keys(error.params).length > 0 ? ` ${JSON.stringify(error.params)}` : ''}`;
}

function at(value: unknown, steps: readonly string[]): unknown {
  return steps.reduce<unknown>(
    (current, step) => (current !== null && typeof current === 'object' ? (current as Record<string, unknown>)[step] : undefined),
    value,
  );
}

/** Compiled validators, one list per type; compiled once per process (about a second each). */
export class ResourceSchemas {
  private readonly ajv = newAjv();
  private readonly compiled = new Map<string, Array<{ validate: ValidateFunction; at: readonly string[]; file: string }>>();

  /** Every violation of the template's resources; a type without a schema is one. */
  validate(template: ResolvedTemplate): SchemaViolation[] {
    const violations: SchemaViolation[] = [];
    for (const [logicalId, resource] of Object.entries(template.resources)) {
      const validators = this.validatorsOf(resource.Type);
      if (validators === undefined) {
        violations.push({
          logicalId,
          type: resource.Type,
          message: `no resource schema for ${resource.Type}: add it (test/infra/cfn-schemas/README.md)`,
        });
        continue;
      }
      for (const { validate, at: steps, file } of validators) {
        const value = at(resource.Properties ?? {}, steps);
        if (value === undefined || validate(value)) continue;
        for (const error of validate.errors ?? [])
          violations.push({ logicalId, type: resource.Type, message: `${file}: ${describeError(error)}` });
      }
    }
    return violations;
  }

  private validatorsOf(type: string): Array<{ validate: ValidateFunction; at: readonly string[]; file: string }> | undefined {
    const cached = this.compiled.get(type);
    if (cached !== undefined) return cached;
    const file = schemaFileOf(type);
    if (!fs.existsSync(file)) return undefined;
    const relative = path.relative(SCHEMA_DIR, file);
    const validators = [
      { validate: this.ajv.compile(prepare(readJson(relative)) as object), at: [], file: relative },
      ...EXTENSIONS.filter((extension) => extension.type === type).map((extension) => ({
        validate: this.ajv.compile(prepare(readJson(extension.file)) as object),
        at: extension.at ?? [],
        file: extension.file,
      })),
    ];
    this.compiled.set(type, validators);
    return validators;
  }
}
