/**
 * Every AWS permission the pipeline relies on, and the denials that matter, decided by an
 * independent IAM policy evaluator (@cloud-copilot/iam-simulate) over the synthesised template with
 * its intrinsics resolved to concrete ARNs. The last block shows the test failing on templates with
 * the faults it exists to catch.
 */
import { ResolvedTemplate, type CfnTemplate } from '../cfn/resolve-template';
import { synthPipeline } from '../synth-pipeline';
import { functionOf } from './api-calls';
import { archiveDelivery, authorizationChecks, failedChecks } from './checks';
import { DeploymentPolicies } from './evaluate';

const templateJson = synthPipeline({ alarmEmail: 'oncall@example.com', alertsEmail: 'soc@example.com' }).template.toJSON() as CfnTemplate;
const resolved = new ResolvedTemplate(templateJson);
const policies = new DeploymentPolicies(resolved);
const checks = authorizationChecks(resolved, policies);

describe('authorization against the synthesised template (iam-simulate)', () => {
  it.each(checks.map((check) => [check.name, check] as const))('%s', async (_name, check) => {
    const { decision, details } = await policies.explain(check.request);
    const ok = check.expected === 'Denied' ? decision !== 'Allowed' : decision === check.expected;
    expect({ decision, ok, details: ok ? '' : details }).toEqual({ decision, ok: true, details: '' });
  });

  it('covers the archive: Firehose reads the stream and its key, writes the bucket and its log, and nothing else', () => {
    const names = checks.map((check) => check.name);
    expect(names.filter((name) => name.startsWith('archive Firehose: '))).toHaveLength(4 + 1 + 3 + 6 + 1 + 1);
    expect(names.filter((name) => name.startsWith('archive Firehose cannot '))).toHaveLength(
      4 + 2 * (resolved.ofType('AWS::S3::Bucket').length - 1),
    );
    // One role for both ends of the delivery stream.
    const delivery = archiveDelivery(resolved, policies)!;
    expect(delivery.properties.KinesisStreamSourceConfiguration.RoleARN).toBe(
      delivery.properties.ExtendedS3DestinationConfiguration.RoleARN,
    );
  });

  it('covers every alarm, the schedule, the access logs and both topics', () => {
    const names = checks.map((check) => check.name);
    expect(names.filter((name) => name.startsWith('CloudWatch alarm ') && name.includes('sns:Publish'))).toHaveLength(
      resolved.ofType('AWS::CloudWatch::Alarm').length,
    );
    expect(names.filter((name) => name.startsWith('EventBridge rule '))).toHaveLength(1);
    expect(names.filter((name) => name.startsWith('S3 server access logging '))).toHaveLength(
      resolved.ofType('AWS::S3::Bucket').filter((id) => resolved.resources[id]!.Properties!.LoggingConfiguration !== undefined).length,
    );
    expect(names.filter((name) => name.startsWith('another account cannot publish'))).toHaveLength(2);
  });
});

/** A deep copy of the template with `change` applied to it. */
function broken(
  change: (template: { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> }) => void,
): DeploymentPolicies {
  const copy = structuredClone(templateJson) as unknown as Parameters<typeof change>[0];
  change(copy);
  return new DeploymentPolicies(new ResolvedTemplate(copy as unknown as CfnTemplate));
}

function statementsOf(document: unknown): Array<Record<string, unknown>> {
  return (document as { Statement: Array<Record<string, unknown>> }).Statement;
}

describe('the same checks on broken templates', () => {
  it("fail when the archive role gets the read-write grant of the CDK's Firehose construct (deletes included), or loses the stream", async () => {
    const roleName = archiveDelivery(resolved, policies)!.properties.ExtendedS3DestinationConfiguration.RoleARN.split('/').pop()!;
    const policiesOfBroken = broken((template) => {
      const roleId = Object.keys(template.Resources).find(
        (id) => template.Resources[id]!.Type === 'AWS::IAM::Role' && resolved.ref(id) === roleName,
      )!;
      for (const resource of Object.values(template.Resources).filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )) {
        const statements = statementsOf(resource.Properties.PolicyDocument);
        for (const statement of statements)
          if (JSON.stringify(statement.Action).includes('s3:PutObject'))
            statement.Action = ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:PutObject', 's3:Abort*'];
        (resource.Properties.PolicyDocument as { Statement: unknown[] }).Statement = statements.filter(
          (statement) => !JSON.stringify(statement.Action).includes('kinesis:'),
        );
      }
    });
    const failed = await failedChecks(policiesOfBroken, authorizationChecks(policiesOfBroken.template, policiesOfBroken));
    expect(failed.map((failure) => failure.name.replace(/stream\/\S+$/, 'stream/<events>')).sort()).toEqual([
      'archive Firehose cannot s3:DeleteObject on archive objects',
      'archive Firehose: kinesis:DescribeStream on stream/<events>',
      'archive Firehose: kinesis:GetRecords on stream/<events>',
      'archive Firehose: kinesis:GetShardIterator on stream/<events>',
      'archive Firehose: kinesis:ListShards on stream/<events>',
    ]);
  });

  it('fail for every alarm when the on-call topic policy holds only the TLS Deny (SNS default policy replaced)', async () => {
    const policiesOfBroken = broken((template) => {
      for (const resource of Object.values(template.Resources).filter((r) => r.Type === 'AWS::SNS::TopicPolicy')) {
        const document = resource.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
        document.Statement = document.Statement.filter((statement) => statement.Effect === 'Deny');
      }
    });
    const failed = await failedChecks(policiesOfBroken, authorizationChecks(policiesOfBroken.template, policiesOfBroken));
    const publishFailures = failed.filter((failure) => / sns:Publish to /.test(failure.name));
    expect(publishFailures).toHaveLength(resolved.ofType('AWS::CloudWatch::Alarm').length);
    expect(new Set(publishFailures.map((failure) => failure.decision))).toEqual(new Set(['ImplicitlyDenied']));
    expect(failed).toEqual(publishFailures);
  });

  it('fail when the puller may read every secret (GetSecretValue on *)', async () => {
    const policiesOfBroken = broken((template) => {
      const puller = functionOf(resolved, 'puller');
      const roleId = (template.Resources[puller]!.Properties.Role as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0];
      for (const resource of Object.values(template.Resources).filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([{ Ref: roleId }]),
      )) {
        for (const statement of statementsOf(resource.Properties.PolicyDocument)) {
          if (statement.Action === 'secretsmanager:GetSecretValue') statement.Resource = '*';
        }
      }
    });
    const failed = await failedChecks(policiesOfBroken, authorizationChecks(policiesOfBroken.template, policiesOfBroken));
    expect(failed.map((failure) => failure.name).sort()).toEqual([
      'puller cannot read a secret outside the source prefix',
      'puller cannot read a secret whose name only starts like the prefix',
    ]);
  });

  it("fail when the CloudWatch grant loses its SourceAccount/SourceArn guard (any account's alarms could publish)", async () => {
    const policiesOfBroken = broken((template) => {
      for (const resource of Object.values(template.Resources).filter((r) => r.Type === 'AWS::SNS::TopicPolicy')) {
        for (const statement of statementsOf(resource.Properties.PolicyDocument))
          if (statement.Effect === 'Allow') delete statement.Condition;
      }
    });
    const failed = await failedChecks(policiesOfBroken, authorizationChecks(policiesOfBroken.template, policiesOfBroken));
    const onCallTopic = resolved
      .ref(
        resolved.ofType('AWS::SNS::Topic').find((id) => resolved.resources[id]!.Properties!.DisplayName === 'okta-log-pipeline on-call')!,
      )
      .split(':')
      .pop();
    expect(failed.map((failure) => failure.name).sort()).toEqual([
      `an alarm of another stack in the account cannot publish to ${onCallTopic} through CloudWatch`,
      `another account's alarms cannot publish to ${onCallTopic} through CloudWatch`,
    ]);
  });

  it('fail when the detections lose the on-failure queue (no sqs:SendMessage)', async () => {
    const policiesOfBroken = broken((template) => {
      for (const resource of Object.values(template.Resources).filter((r) => r.Type === 'AWS::IAM::Policy')) {
        const document = resource.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> };
        document.Statement = document.Statement.filter((statement) => !JSON.stringify(statement.Action).includes('sqs:SendMessage'));
      }
    });
    const failed = await failedChecks(policiesOfBroken, authorizationChecks(policiesOfBroken.template, policiesOfBroken));
    expect(failed.map((failure) => failure.name)).toEqual(['detections: sqs:SendMessage on onFailureQueue (event-source-mapping)']);
  });
});
