/**
 * Every resource of the synthesised template against CloudFormation's resource provider schema
 * for its type (and cfn-lint's extension schemas), with intrinsics resolved to the values
 * CloudFormation would give them. The planted faults below are ones CloudFormation would refuse
 * only at deploy time.
 */
import { synthPipeline } from '../synth-pipeline';
import { ResolvedTemplate, type CfnTemplate } from './resolve-template';
import { pythonPatternToJs, ResourceSchemas } from './resource-schemas';

const schemas = new ResourceSchemas();
const defaultTemplate = synthPipeline().template.toJSON() as CfnTemplate;

type MutableTemplate = { Resources: Record<string, { Type: string; Properties: Record<string, unknown> }> };

/** The default template with one fault planted, validated; returns the violations' messages. */
function violationsWith(plant: (template: MutableTemplate) => void): string[] {
  const copy = structuredClone(defaultTemplate) as unknown as MutableTemplate;
  plant(copy);
  return schemas
    .validate(new ResolvedTemplate(copy as unknown as CfnTemplate))
    .map((violation) => `${violation.logicalId} ${violation.message}`);
}

function resourceWhere(
  template: MutableTemplate,
  type: string,
  predicate: (properties: Record<string, unknown>) => boolean = () => true,
): Record<string, unknown> {
  const found = Object.values(template.Resources).filter((resource) => resource.Type === type && predicate(resource.Properties));
  if (found.length === 0) throw new Error(`no ${type} to plant a fault in`);
  return found[0]!.Properties;
}

describe('the template against CloudFormation resource schemas', () => {
  it.each([
    ['the defaults', {}],
    [
      'subscriptions, a provisioned stream, 7 puller shards, 30-day logs',
      {
        alarmEmail: 'oncall@example.com',
        alarmHttpsEndpoint: 'https://events.pagerduty.com/integration/abc/enqueue',
        alertsEmail: 'soc@example.com',
        streamMode: 'PROVISIONED',
        streamShardCount: '2',
        pullerShards: '7',
        logRetentionDays: '30',
      },
    ],
  ])('has no violation with %s', (_name, context) => {
    const template = new ResolvedTemplate(synthPipeline(context).template.toJSON() as CfnTemplate);
    // The resources whose schemas matter most are there to be validated (the check does not run over nothing).
    const types = new Set(Object.values(template.resources).map((resource) => resource.Type));
    expect(
      [
        'AWS::Lambda::Function',
        'AWS::DynamoDB::Table',
        'AWS::Kinesis::Stream',
        'AWS::S3::Bucket',
        'AWS::CloudWatch::Alarm',
        'AWS::IAM::Policy',
      ].filter((type) => !types.has(type)),
    ).toEqual([]);
    expect(schemas.validate(template)).toEqual([]);
  });

  it('refuses an unknown Lambda runtime', () => {
    const violations = violationsWith((template) => {
      resourceWhere(template, 'AWS::Lambda::Function').Runtime = 'nodejs99.x';
    });
    expect(violations).toEqual([
      expect.stringMatching(/providers\/AWS_Lambda_Function\.json: \/Runtime must be equal to one of the allowed values/),
    ]);
  });

  it('refuses a log retention of 91 days', () => {
    const violations = violationsWith((template) => {
      resourceWhere(template, 'AWS::Logs::LogGroup').RetentionInDays = 91;
    });
    expect(violations).toEqual([
      expect.stringMatching(/providers\/AWS_Logs_LogGroup\.json: \/RetentionInDays must be equal to one of the allowed values/),
    ]);
  });

  it('refuses an alarm period of 45 seconds', () => {
    const violations = violationsWith((template) => {
      resourceWhere(template, 'AWS::CloudWatch::Alarm', (alarm) => alarm.Period !== undefined).Period = 45;
    });
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/ext\/aws_cloudwatch_alarm\/period\.json: \/Period must be equal to one of the allowed values/),
      ]),
    );
  });

  it('refuses a Metrics Insights alarm without a period, and one of 45 seconds', () => {
    const isInsights = (alarm: Record<string, unknown>) => JSON.stringify(alarm.Metrics ?? '').includes('SELECT ');
    const withoutPeriod = violationsWith((template) => {
      delete (resourceWhere(template, 'AWS::CloudWatch::Alarm', isInsights).Metrics as Array<Record<string, unknown>>)[0]!.Period;
    });
    expect(withoutPeriod).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/project\/aws_cloudwatch_alarm\/metrics_period\.json: \/Metrics\/0 must have required property 'Period'/),
      ]),
    );
    const oddPeriod = violationsWith((template) => {
      (resourceWhere(template, 'AWS::CloudWatch::Alarm', isInsights).Metrics as Array<Record<string, unknown>>)[0]!.Period = 45;
    });
    expect(oddPeriod).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/metrics_period\.json: \/Metrics\/0\/Period must be equal to one of the allowed values/),
      ]),
    );
  });

  it("checks the archive's resources too: a Firehose buffer over 900 s, an unknown processor, a Glue column without a name, an unknown Athena encryption", () => {
    const violations = violationsWith((template) => {
      const destination = resourceWhere(template, 'AWS::KinesisFirehose::DeliveryStream').ExtendedS3DestinationConfiguration as Record<
        string,
        Record<string, unknown>
      >;
      destination.BufferingHints!.IntervalInSeconds = 901;
      (destination.ProcessingConfiguration!.Processors as Array<Record<string, unknown>>)[1]!.Type = 'AppendNewline';
      const input = resourceWhere(template, 'AWS::Glue::Table').TableInput as {
        StorageDescriptor: { Columns: Array<Record<string, unknown>> };
      };
      delete input.StorageDescriptor.Columns[0]!.Name;
      const results = (
        resourceWhere(template, 'AWS::Athena::WorkGroup').WorkGroupConfiguration as {
          ResultConfiguration: { EncryptionConfiguration: Record<string, unknown> };
        }
      ).ResultConfiguration;
      results.EncryptionConfiguration.EncryptionOption = 'SSE_MAGIC';
    });
    expect(violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /AWS_KinesisFirehose_DeliveryStream\.json: \/ExtendedS3DestinationConfiguration\/BufferingHints\/IntervalInSeconds must be <= 900/,
        ),
        expect.stringMatching(
          /AWS_KinesisFirehose_DeliveryStream\.json: \/ExtendedS3DestinationConfiguration\/ProcessingConfiguration\/Processors\/1\/Type must be equal to one of the allowed values/,
        ),
        expect.stringMatching(/AWS_Glue_Table\.json: \/TableInput\/StorageDescriptor\/Columns\/0 must have required property 'Name'/),
        expect.stringMatching(/AWS_Athena_WorkGroup\.json: .*EncryptionOption must be equal to one of the allowed values/),
      ]),
    );
  });

  it('refuses a resource type it has no schema for', () => {
    const violations = violationsWith((template) => {
      template.Resources.Planted = { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Value: 'x' } };
    });
    expect(violations).toEqual(['Planted no resource schema for AWS::SSM::Parameter: add it (test/infra/cfn-schemas/README.md)']);
  });

  it("applies cfn-lint's keywords and Lambda's reserved environment names", () => {
    expect(
      violationsWith((template) => {
        const alarm = resourceWhere(template, 'AWS::CloudWatch::Alarm', (properties) => properties.MetricName !== undefined);
        alarm.Metrics = [{ Id: 'm1', Expression: 'SELECT MAX(x) FROM SCHEMA("y")', Period: 300, ReturnData: true }];
      }),
    ).toEqual(expect.arrayContaining([expect.stringMatching(/must match exactly one schema in oneOf/)]));
    expect(
      violationsWith((template) => {
        (resourceWhere(template, 'AWS::Lambda::Function').Environment as { Variables: Record<string, string> }).Variables.AWS_REGION =
          'us-east-1';
      }),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/environment_variable_keys\.json: \/ property name must be valid {"propertyName":"AWS_REGION"}/),
      ]),
    );
  });

  it("reads Python's \\A and \\Z as the start and end of the input", () => {
    expect(pythonPatternToJs('\\A[a-z]+\\Z')).toBe('^[a-z]+$');
    expect(pythonPatternToJs('^a\\\\Z')).toBe('^a\\\\Z');
    expect(new RegExp(pythonPatternToJs('^[.\\-_/#A-Za-z0-9]{1,512}\\Z')).test('/aws/lambda/x')).toBe(true);
  });
});
