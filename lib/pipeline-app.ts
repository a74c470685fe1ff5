import type { App } from 'aws-cdk-lib';
import { readPipelineConfig } from './config';
import { addNagChecks } from './nag';
import { OktaLogPipelineStack } from './okta-log-pipeline-stack';

/** The stack's name, and so the prefix of its alarm names and its dashboard's name. */
export const STACK_NAME = 'OktaLogPipeline';

/**
 * Reads the context of `app`, adds the pipeline stack and cdk-nag's checks. The stack is
 * environment-agnostic (no account or region): `cdk deploy` targets the CLI's credentials.
 */
export function buildPipelineApp(app: App): OktaLogPipelineStack {
  const config = readPipelineConfig((key) => app.node.tryGetContext(key));
  const stack = new OktaLogPipelineStack(app, STACK_NAME, {
    config,
    description: 'okta-log-pipeline: Okta System Log events to Kinesis every minute, with drop-off alarms and detections',
  });
  addNagChecks(app);
  return stack;
}
