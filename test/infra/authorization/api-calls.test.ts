import * as path from 'node:path';
import { API_CALLS, LAMBDAS, type LambdaName } from './api-calls';
import { filesOf, listedSdkActions, sdkActionsOf, unlistedCommands } from './lambda-sdk-calls';

const lambdas = Object.keys(LAMBDAS) as LambdaName[];

describe('API_CALLS, the table of every AWS call each Lambda makes', () => {
  it.each(lambdas)("lists exactly the SDK commands the %s's code imports", (lambda) => {
    expect([...sdkActionsOf(lambda)].sort()).toEqual([...listedSdkActions(lambda)].sort());
  });

  it('has one row per action and target, each with a reason', () => {
    for (const lambda of lambdas) {
      const keys = API_CALLS[lambda].map((call) => `${call.action} ${call.target}`);
      expect(new Set(keys).size).toBe(keys.length);
      for (const call of API_CALLS[lambda]) expect(call.why.length).toBeGreaterThan(10);
    }
  });

  it("follows the handlers' imports into the AWS adapters they use", () => {
    const relative = (lambda: LambdaName) => [...filesOf(lambda)].map((file) => path.relative(path.resolve(__dirname, '../../..'), file));
    expect(relative('puller')).toEqual(
      expect.arrayContaining(['lambdas/adapters/aws/secrets-manager-source-registry.ts', 'lambdas/adapters/aws/kinesis-record-sink.ts']),
    );
    expect(relative('detections')).toEqual(
      expect.arrayContaining(['lambdas/adapters/aws/alert-publisher.ts', 'lambdas/adapters/aws/detection-state-store.ts']),
    );
    expect(relative('detections')).not.toContain('lambdas/adapters/aws/kinesis-record-sink.ts');
  });

  it('names a command an adapter sends that the table does not list, and a command no Lambda can send', () => {
    const adapter = (name: string) => path.resolve(__dirname, '../../../lambdas/adapters/aws', name);
    expect(
      unlistedCommands([
        { file: adapter('s3-quarantine.ts'), action: 's3:PutObject' },
        { file: adapter('s3-quarantine.ts'), action: 's3:DeleteObject' },
        { file: adapter('alert-publisher.ts'), action: 'sns:CreateTopic' },
        { file: adapter('no-such-adapter.ts'), action: 'sqs:SendMessage' },
      ]),
    ).toEqual([
      'lambdas/adapters/aws/alert-publisher.ts sends sns:CreateTopic for the detections, which API_CALLS does not list',
      'lambdas/adapters/aws/no-such-adapter.ts sends sqs:SendMessage but no Lambda imports it',
      'lambdas/adapters/aws/s3-quarantine.ts sends s3:DeleteObject for the puller, which API_CALLS does not list',
    ]);
  });
});
