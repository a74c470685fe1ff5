import * as path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { ruleFilesDefine } from '../lambdas/core/detections/rule-files';

/** The repository root: entries, package-lock.json and tsconfig.json are resolved from it. */
export const PROJECT_ROOT = path.resolve(__dirname, '..');

/**
 * How esbuild bundles every function of the pipeline. `bench/lambda.ts` bundles with these same
 * options, so that its size and cold-init figures are those of what ships.
 */
export const PIPELINE_BUNDLING: {
  readonly minify: boolean;
  readonly sourceMap: boolean;
  readonly sourcesContent: boolean;
  readonly mainFields: string[];
} = {
  minify: true,
  sourceMap: true,
  // The map only needs line mappings; the sources are in the repository.
  sourcesContent: false,
  // The SDK v3 and Smithy packages ship ES modules (`module`) next to CommonJS (`main`); esbuild
  // tree-shakes the ES modules far better. Module-first cut the puller's bundle from 958 KB to
  // 684 KB and its load time by a third (docs/SCALING.md, `npm run bench`, section lambda).
  mainFields: ['module', 'main'],
};

/**
 * NODE_OPTIONS of every function: stack traces in the logs point at the TypeScript lines, not at
 * the minified bundle. It costs about 15 ms of cold init (reading the map), measured by the bench.
 */
export const PIPELINE_NODE_OPTIONS = '--enable-source-maps';

export interface PipelineFunctionProps {
  /** Handler file relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly description: string;
  readonly memorySizeMb: number;
  readonly timeout: Duration;
  readonly environment: Readonly<Record<string, string>>;
  readonly logRetention: RetentionDays;
}

/**
 * A Lambda function of this pipeline: Node 24 on arm64, bundled by esbuild, with its own log
 * group and its own role. The role is written here instead of taking AWSLambdaBasicExecutionRole,
 * whose `logs:*` on every log group is wider than a function that writes to one group needs.
 */
export class PipelineFunction extends Construct {
  readonly function: NodejsFunction;
  readonly role: Role;

  constructor(scope: Construct, id: string, props: PipelineFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
    });
    // logs:CreateLogStream and logs:PutLogEvents on this function's group only.
    logGroup.grants.write(this.role);
    this.function = new NodejsFunction(this, 'Function', {
      entry: path.join(PROJECT_ROOT, props.entry),
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: path.join(PROJECT_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      // Graviton: about 20 % cheaper per GB-second than x86 for the same Node workload.
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMb,
      timeout: props.timeout,
      role: this.role,
      logGroup,
      environment: {
        ...props.environment,
        NODE_OPTIONS: PIPELINE_NODE_OPTIONS,
      },
      bundling: {
        ...PIPELINE_BUNDLING,
        target: 'node24',
        format: OutputFormat.CJS,
        // The SDK v3 that the Node 24 runtime ships changes under us with every runtime patch;
        // package.json pins 3.1143.0 and the integration tests run against that version, so it
        // is bundled (tree-shaken by esbuild) rather than taken from the runtime. Powertools is
        // not in the runtime at all and is bundled either way.
        bundleAwsSDK: true,
        externalModules: [],
        // The detection rules' file names, which the bundle cannot read from a directory
        // (lambdas/core/detections/rules/index.ts); read from the repository at every synth.
        define: ruleFilesDefine(),
      },
    });
  }
}
