/**
 * Asks an independent IAM policy evaluator, @cloud-copilot/iam-simulate (AGPL-3.0, a test-only
 * devDependency; it evaluates identity policies, resource policies, KMS key policies, explicit
 * Deny, conditions and service principals as AWS documents them), whether a request would be
 * allowed by the policies of a synthesised template. Our code only gathers the policies that apply
 * to a request from the resolved template; the decision is the evaluator's.
 */
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { ResolvedTemplate } from '../cfn/resolve-template';

export type Decision = 'Allowed' | 'ExplicitlyDenied' | 'ImplicitlyDenied';

export interface AuthorizationRequest {
  /** An IAM role or assumed-role ARN, an account root ARN, or a service principal (`events.amazonaws.com`). */
  readonly principal: string;
  readonly action: string;
  readonly resource: string;
  /** Request context keys (`aws:SourceArn`, `aws:SecureTransport`, ...); `aws:SecureTransport` defaults to "true". */
  readonly context?: Readonly<Record<string, string | string[]>>;
}

interface PolicyDocument {
  readonly Version?: string;
  readonly Statement: unknown[];
}

/**
 * The key policy of an AWS managed key (`alias/aws/<service>`): principals of the account may use
 * it only through that service ("kms:ViaService",
 * https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-via-service,
 * which describes AWS managed keys' policies as allowing use via the service for the account's
 * principals). It is AWS's, not the template's, so it is modelled here.
 */
function awsManagedKeyPolicy(service: string, template: ResolvedTemplate): PolicyDocument {
  const { account, region } = template.env;
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
        Resource: '*',
        Condition: { StringEquals: { 'kms:CallerAccount': account, 'kms:ViaService': `${service}.${region}.amazonaws.com` } },
      },
    ],
  };
}

/** The ARN standing for an AWS managed key (`alias/aws/kinesis`) in requests. */
export function awsManagedKeyArn(template: ResolvedTemplate, alias: string): string {
  const { partition, region, account } = template.env;
  const service = /^alias\/aws\/([a-z0-9-]+)$/.exec(alias)?.[1];
  if (service === undefined) throw new Error(`not an AWS managed key alias: ${alias}`);
  return `arn:${partition}:kms:${region}:${account}:key/aws-managed-${service}`;
}

/** Every policy of the template that governs requests from inside and outside the account. */
export class DeploymentPolicies {
  constructor(readonly template: ResolvedTemplate) {}

  /** The session ARN a Lambda function's requests carry, and the role whose policies apply. */
  lambdaPrincipal(functionLogicalId: string): string {
    const functionResource = this.template.resources[functionLogicalId]!;
    return this.rolePrincipal(functionResource.Properties!.Role as string, this.template.ref(functionLogicalId));
  }

  /** The session ARN of a service acting as the role `roleArn` (Firehose with its delivery role). */
  rolePrincipal(roleArn: string, sessionName: string): string {
    const roleName = roleArn.split('/').pop()!;
    return `arn:${this.template.env.partition}:sts::${this.template.env.account}:assumed-role/${roleName}/${sessionName}`;
  }

  /** Identity policies of the role behind `principal` (an assumed-role or role ARN of this template). */
  identityPolicies(principal: string): Array<{ name: string; policy: PolicyDocument }> {
    const principalAccount = /^arn:[^:]+:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1];
    if (principalAccount !== undefined && principalAccount !== this.template.env.account) {
      // The worst case of another account: its own policies allow its principals everything, so
      // only this deployment's resource policies stand between it and the resource.
      return [
        {
          name: 'other-account-allows-everything',
          policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
        },
      ];
    }
    const roleName = /^arn:[^:]+:(?:sts::\d+:assumed-role|iam::\d+:role)\/([^/]+)/.exec(principal)?.[1];
    if (roleName === undefined) return [];
    const roleId = this.template.ofType('AWS::IAM::Role').find((id) => this.template.ref(id) === roleName);
    if (roleId === undefined) return [];
    const role = this.template.resources[roleId]!.Properties!;
    if (role.ManagedPolicyArns !== undefined) {
      throw new Error(`role ${roleId} has managed policies, which this evaluation cannot see; attach inline policies instead`);
    }
    const inline = ((role.Policies as Array<{ PolicyName: string; PolicyDocument: PolicyDocument }> | undefined) ?? []).map((policy) => ({
      name: policy.PolicyName,
      policy: policy.PolicyDocument,
    }));
    const attached = this.template
      .ofType('AWS::IAM::Policy')
      .map((id) => this.template.resources[id]!.Properties!)
      .filter((policy) => (policy.Roles as string[]).includes(roleName))
      .map((policy) => ({ name: policy.PolicyName as string, policy: policy.PolicyDocument as PolicyDocument }));
    return [...inline, ...attached];
  }

  /** The resource-based policy (topic, queue, bucket, key policy, Lambda permissions) governing `resource`. */
  resourcePolicy(resource: string): PolicyDocument | undefined {
    const t = this.template;
    const documents: PolicyDocument[] = [];
    for (const id of t.ofType('AWS::SNS::TopicPolicy')) {
      const properties = t.resources[id]!.Properties!;
      if ((properties.Topics as string[]).includes(resource)) documents.push(properties.PolicyDocument as PolicyDocument);
    }
    for (const id of t.ofType('AWS::SQS::QueuePolicy')) {
      const properties = t.resources[id]!.Properties!;
      const queues = t.ofType('AWS::SQS::Queue').filter((queue) => (properties.Queues as string[]).includes(t.ref(queue)));
      if (queues.some((queue) => t.attribute(queue, 'Arn') === resource)) documents.push(properties.PolicyDocument as PolicyDocument);
    }
    for (const id of t.ofType('AWS::S3::BucketPolicy')) {
      const properties = t.resources[id]!.Properties!;
      const bucketArn = `arn:${t.env.partition}:s3:::${properties.Bucket as string}`;
      if (resource === bucketArn || resource.startsWith(`${bucketArn}/`)) documents.push(properties.PolicyDocument as PolicyDocument);
    }
    for (const id of t.ofType('AWS::KMS::Key')) {
      if (t.attribute(id, 'Arn') === resource) documents.push(t.resources[id]!.Properties!.KeyPolicy as PolicyDocument);
    }
    const managed = /:key\/aws-managed-([a-z0-9-]+)$/.exec(resource)?.[1];
    if (managed !== undefined) documents.push(awsManagedKeyPolicy(managed, t));
    const permissions = this.lambdaPermissions(resource);
    if (permissions.length > 0) documents.push({ Version: '2012-10-17', Statement: permissions });
    if (documents.length > 1) throw new Error(`more than one resource policy governs ${resource}`);
    return documents[0];
  }

  /**
   * A function's resource-based policy as Lambda builds it from AddPermission
   * (AWS::Lambda::Permission): the principal, the action, and `SourceArn` / `SourceAccount` as
   * `ArnLike AWS:SourceArn` / `StringEquals AWS:SourceAccount` conditions, as `aws lambda
   * get-policy` shows them (https://docs.aws.amazon.com/lambda/latest/dg/access-control-resource-based.html).
   */
  private lambdaPermissions(resource: string): unknown[] {
    const t = this.template;
    const fn = t.ofType('AWS::Lambda::Function').find((id) => t.attribute(id, 'Arn') === resource);
    if (fn === undefined) return [];
    return t
      .ofType('AWS::Lambda::Permission')
      .map((id) => t.resources[id]!.Properties!)
      .filter((permission) => permission.FunctionName === resource || permission.FunctionName === t.ref(fn))
      .map((permission) => {
        const principal = permission.Principal as string;
        const condition: Record<string, Record<string, string>> = {};
        if (permission.SourceArn !== undefined) condition.ArnLike = { 'AWS:SourceArn': permission.SourceArn as string };
        if (permission.SourceAccount !== undefined) condition.StringEquals = { 'AWS:SourceAccount': permission.SourceAccount as string };
        return {
          Effect: 'Allow',
          Principal: principal.endsWith('.amazonaws.com') ? { Service: principal } : { AWS: principal },
          Action: permission.Action,
          Resource: resource,
          ...(Object.keys(condition).length > 0 ? { Condition: condition } : {}),
        };
      });
  }

  /** The evaluator's decision, with the statements it found decisive when it refuses. */
  async evaluate(request: AuthorizationRequest): Promise<Decision> {
    return (await this.explain(request)).decision;
  }

  async explain(request: AuthorizationRequest): Promise<{ decision: Decision; details: string }> {
    const accountId = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):/.exec(request.resource)?.[1] ?? this.template.env.account;
    const result = await runSimulation(
      {
        request: {
          principal: request.principal,
          action: request.action,
          resource: { resource: request.resource, accountId },
          contextVariables: { 'aws:SecureTransport': 'true', ...request.context },
        },
        identityPolicies: this.identityPolicies(request.principal),
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: this.resourcePolicy(request.resource),
      },
      {},
    );
    if (result.resultType === 'error') {
      throw new Error(`iam-simulate refused the request ${JSON.stringify(request)}: ${JSON.stringify(result.errors)}`);
    }
    return {
      decision: result.overallResult as Decision,
      details: JSON.stringify(result.resultType === 'single' ? result.result.analysis : result.results),
    };
  }
}
