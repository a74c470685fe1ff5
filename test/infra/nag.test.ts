import { Validations, type Acknowledgment } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsSolutionsChecks } from 'cdk-nag';
import { buildPipeline, synthPipeline } from './synth-pipeline';

const describeViolations = (report: ReturnType<AwsSolutionsChecks['validateScope']>) =>
  report.violations.map((v) => `${v.ruleName} at ${v.violatingResources.map((r) => r.constructPath).join(', ')}`);

describe('cdk-nag AwsSolutions checks', () => {
  it.each([
    ['the default stack', {}],
    [
      'a stack with every subscription',
      { alarmEmail: 'oncall@example.com', alarmHttpsEndpoint: 'https://events.pagerduty.com/x', alertsEmail: 'soc@example.com' },
    ],
    [
      'a provisioned stream and another secret prefix',
      { streamMode: 'PROVISIONED', streamShardCount: 2, sourceSecretPrefix: 'acme/okta-' },
    ],
  ])('find nothing unacknowledged, errors or warnings, in %s', (_name, context) => {
    const { app } = synthPipeline(context);
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(describeViolations(report)).toEqual([]);
  });

  it('are acknowledged only where they fire: every acknowledgement matches a finding', () => {
    const acknowledged: string[] = [];
    const acknowledge = jest.spyOn(Validations.prototype, 'acknowledge').mockImplementation((...rules: Acknowledgment[]) => {
      acknowledged.push(...rules.map((rule) => rule.id));
    });
    try {
      const { app } = buildPipeline();
      const findings = new AwsSolutionsChecks().validateScope(app).violations.map((v) => v.ruleName);
      expect(acknowledged.length).toBeGreaterThan(0);
      expect([...new Set(findings)].sort()).toEqual([...new Set(acknowledged)].sort());
    } finally {
      acknowledge.mockRestore();
    }
  });

  it('run on every synth of the app and fail it when a construct breaks a rule', () => {
    const { app, stack } = buildPipeline();
    new Bucket(stack, 'CarelessBucket');
    const report = new AwsSolutionsChecks().validateScope(app);
    expect(describeViolations(report)).toEqual(
      expect.arrayContaining([
        'AwsSolutions-S1 at OktaLogPipeline/CarelessBucket/Resource',
        'AwsSolutions-S10 at OktaLogPipeline/CarelessBucket/Resource',
      ]),
    );
    expect(() => Template.fromStack(stack)).toThrow(/The S3 Bucket has server access logs disabled[\s\S]*AwsSolutions-S1/);
  });
});
