import { App, Stack, Validations, type Acknowledgment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Bucket, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { acknowledgeWildcardResource } from '../../lib/nag';

function scratch(): { stack: Stack; bucket: Bucket } {
  const stack = new Stack(new App(), 'Scratch');
  return { stack, bucket: new Bucket(stack, 'Store') };
}

describe('acknowledgeWildcardResource', () => {
  it('acknowledges the IAM5 finding id cdk-nag renders for the ARN, and leaves nothing in the template', () => {
    const { stack, bucket } = scratch();
    const acknowledged: string[] = [];
    const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation((...rules: Acknowledgment[]) => {
      acknowledged.push(...rules.map((rule) => rule.id));
    });
    try {
      acknowledgeWildcardResource(stack, bucket.arnForObjects('*'), 'test');
      acknowledgeWildcardResource(stack, '*', 'test');
    } finally {
      acknowledge.mockRestore();
    }
    const bucketId = stack.getLogicalId(bucket.node.defaultChild as CfnBucket);
    expect(acknowledged).toEqual([`AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/*]`, 'AwsSolutions-IAM5[Resource::*]']);
    expect(Object.keys(Template.fromStack(stack).toJSON().Resources as object)).not.toContainEqual(expect.stringMatching(/Probe/));
    Template.fromStack(stack).resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });

  it('refuses an ARN without a wildcard, which cdk-nag never reports', () => {
    const { stack, bucket } = scratch();
    expect(() => acknowledgeWildcardResource(stack, bucket.bucketArn, 'test')).toThrow(
      /is not a wildcard resource that cdk-nag's IAM5 reports/,
    );
    Template.fromStack(stack).resourceCountIs('AWS::IAM::ManagedPolicy', 0);
  });
});
