import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { ruleFiles } from '../../lambdas/core/detections/rule-files';
import { buildPipelineApp } from '../../lib/pipeline-app';
import { cdkJsonContext } from './synth-pipeline';

/**
 * The one test that bundles for real: esbuild (local, no Docker) turns each handler into a
 * minified CommonJS file with a source map and the pinned AWS SDK inside, which loads in a
 * fresh Node process and exports `handler`.
 */
describe('Lambda bundles', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'okta-log-pipeline-cdk-'));
  afterAll(() => fs.rmSync(outdir, { recursive: true, force: true }));

  it('are built by esbuild with the SDK inside, and load', () => {
    const app = new App({ outdir, context: cdkJsonContext(), builtinCloudFormationValidation: false });
    const stack = buildPipelineApp(app);
    app.synth();
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x' } });
    expect(Object.keys(functions)).toHaveLength(2);
    // Whether each bundle that holds the detection rules was given their file names (rules/index.ts).
    const ruleListed: boolean[] = [];
    for (const fn of Object.values(functions)) {
      const key = fn.Properties.Code.S3Key as string;
      const assetDir = path.join(outdir, `asset.${key.replace(/\.zip$/, '')}`);
      const bundle = path.join(assetDir, 'index.js');
      const code = fs.readFileSync(bundle, 'utf8');
      expect(fs.existsSync(`${bundle}.map`)).toBe(true);
      // The SDK's optional CRT signer stays an unresolved require inside a try; the clients must not.
      expect(code).not.toMatch(/require\(["']@aws-sdk\/client-/);
      expect(code).not.toMatch(/require\(["']@aws-lambda-powertools\//);
      // Module-first (PIPELINE_BUNDLING.mainFields): the SDK's ES modules, which esbuild tree-shakes, not its CommonJS.
      const sources = (JSON.parse(fs.readFileSync(`${bundle}.map`, 'utf8')) as { sources: string[] }).sources;
      const sdk = sources.filter((source) => /node_modules\/@(aws-sdk|smithy)\//.test(source));
      expect(sdk.length).toBeGreaterThan(0);
      expect(sdk.filter((source) => source.includes('/dist-cjs/'))).toEqual([]);
      if (sources.some((source) => source.endsWith('lambdas/core/detections/rules/index.ts'))) {
        ruleListed.push(code.includes(JSON.stringify(ruleFiles().join(','))));
      }
      const env = { ...process.env, AWS_REGION: 'us-east-1', ...stringEnv(fn.Properties.Environment.Variables) };
      const exported = execFileSync(process.execPath, ['-e', `process.stdout.write(typeof require(${JSON.stringify(bundle)}).handler)`], {
        env,
      }).toString();
      expect(exported).toBe('function');
    }
    expect(ruleListed).toEqual([true]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Code: { S3Key: Match.stringLikeRegexp('\\.zip$') },
    });
  });
});

/** Placeholder values for the references (table names, ARNs) a template holds before deployment. */
function stringEnv(variables: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).map(([name, value]) => [name, typeof value === 'string' ? value : `placeholder-${name.toLowerCase()}`]),
  );
}
