import { Validations } from 'aws-cdk-lib';
import { CfnManagedPolicy } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks, rules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** Runs cdk-nag's AWS Solutions checks on every synth of `scope` (an App or Stage); a finding fails it. */
export function addNagChecks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope));
}

/** The id of the probe policy `acknowledgeWildcardResource` creates and removes again. */
const PROBE_ID = 'NagWildcardResourceProbe';

/**
 * Acknowledges cdk-nag's IAM5 finding for one wildcard resource ARN of a policy in `scope`.
 * The finding id embeds the ARN as cdk-nag renders it (`<Logical.Arn>/*`, `<AWS::Region>`), so it
 * is taken from cdk-nag's own public rule (`rules.iam.IAMNoWildcardPermissions`) run on a policy
 * that allows nothing but names the same token, instead of being spelled out by hand or rendered
 * with cdk-nag internals. The probe policy is removed from the tree before anything is synthesised.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const probe = new CfnManagedPolicy(scope, PROBE_ID, {
    policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'none:None', Resource: resourceArn }] },
  });
  let findings: ReturnType<typeof rules.iam.IAMNoWildcardPermissions>;
  try {
    findings = rules.iam.IAMNoWildcardPermissions(probe);
  } finally {
    scope.node.tryRemoveChild(PROBE_ID);
  }
  if (!Array.isArray(findings) || findings.length !== 1) {
    throw new Error(
      `${scope.node.path}: ${resourceArn} is not a wildcard resource that cdk-nag's IAM5 reports (got ${JSON.stringify(findings)})`,
    );
  }
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[${findings[0]}]`, reason });
}
