import { Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference';
import type { IConstruct } from 'constructs';

/** Runs cdk-nag's AWS Solutions checks on every synth of `scope` (an App or Stage); a finding fails it. */
export function addNagChecks(scope: IConstruct): void {
  Validations.of(scope).addPlugins(new AwsSolutionsChecks(scope));
}

/**
 * Acknowledges cdk-nag's IAM5 finding for one wildcard resource ARN of a policy in `scope`.
 * The finding id embeds the ARN as cdk-nag renders it (`<Logical.Arn>/*`, `<AWS::Region>`), so
 * it is derived from the same token the policy uses instead of being spelled out by hand.
 */
export function acknowledgeWildcardResource(scope: IConstruct, resourceArn: string, reason: string): void {
  const rendered = flattenCfnReference(Stack.of(scope).resolve(resourceArn));
  Validations.of(scope).acknowledge({ id: `AwsSolutions-IAM5[Resource::${rendered}]`, reason });
}
