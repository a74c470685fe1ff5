import * as fs from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { buildPipelineApp } from '../../lib/pipeline-app';
import type { OktaLogPipelineStack } from '../../lib/okta-log-pipeline-stack';

const REPO_ROOT = path.resolve(__dirname, '..', '..');

/** The context of cdk.json, so the tests synthesise with the feature flags `cdk synth` uses. */
export function cdkJsonContext(): Record<string, unknown> {
  const cdkJson = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  return cdkJson.context ?? {};
}

export interface SynthesisedPipeline {
  readonly app: App;
  readonly stack: OktaLogPipelineStack;
  readonly template: Template;
}

/**
 * The app as bin/app.ts builds it (cdk-nag included), with extra context, not yet synthesised.
 * Asset bundling is skipped (bundling.test.ts is the one test that bundles), and so is the CDK's
 * built-in CloudFormation schema validation, which costs over ten seconds per process here;
 * `npx cdk synth` still runs it.
 */
export function buildPipeline(context: Record<string, unknown> = {}): { app: App; stack: OktaLogPipelineStack } {
  const app = new App({
    context: { ...cdkJsonContext(), 'aws:cdk:bundling-stacks': [], ...context },
    builtinCloudFormationValidation: false,
  });
  return { app, stack: buildPipelineApp(app) };
}

/** `buildPipeline`, synthesised (which runs cdk-nag: a finding throws here). */
export function synthPipeline(context: Record<string, unknown> = {}): SynthesisedPipeline {
  const { app, stack } = buildPipeline(context);
  return { app, stack, template: Template.fromStack(stack) };
}
/** The logical id of the only resource of `type` whose properties match `props`. */
export function logicalIdOf(template: Template, type: string, props: Record<string, unknown> = {}): string {
  const found = Object.keys(template.findResources(type, { Properties: props }));
  if (found.length !== 1) {
    throw new Error(`expected one ${type} matching ${JSON.stringify(props)}, found ${found.length}: ${found.join(', ')}`);
  }
  return found[0]!;
}

/** The bucket's policy denies every S3 request that is not over TLS, from anyone. */
export function expectTlsOnlyBucket(template: Template, bucketLogicalId: string): void {
  template.hasResourceProperties('AWS::S3::BucketPolicy', {
    Bucket: { Ref: bucketLogicalId },
    PolicyDocument: {
      Statement: Match.arrayWith([
        Match.objectLike({
          Effect: 'Deny',
          Action: 's3:*',
          Principal: { AWS: '*' },
          Condition: { Bool: { 'aws:SecureTransport': 'false' } },
        }),
      ]),
    },
  });
}
