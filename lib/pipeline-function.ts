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
 * The environment of every function's runtime process, read by node and glibc when the process
 * starts. Lambda puts the function's environment variables in the runtime's environment before it
 * starts it: that is how `NODE_OPTIONS` works (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-modify.html),
 * and the Node.js runtime's bootstrap is a shell script that `exec`s node with that environment.
 * `bench/lambda.ts` starts its Lambda-like processes with exactly these.
 */
export const PIPELINE_RUNTIME_ENVIRONMENT: Readonly<Record<string, string>> = {
  // Stack traces in the logs point at the TypeScript lines, not at the minified bundle. It costs
  // about 15 ms of cold init (reading the map), measured by the bench.
  NODE_OPTIONS: '--enable-source-maps',
  // glibc malloc (mallopt(3), "Memory Allocation Tunables" of the glibc manual): by default it
  // keeps what node frees (page bodies read off the socket, parse buffers) for reuse, in up to
  // eight arenas per core, and raises its mmap threshold after each large free, so a 256 MB
  // Lambda's resident memory keeps the high-water mark of every burst. Two arenas and trimming
  // above 128 KiB give freed memory back to the OS. The mmap threshold is fixed at 64 KiB because
  // that is the size of every socket read buffer (libuv's `uv__read` asks node for 64 * 1024
  // bytes, src/unix/stream.c): a page body arrives as hundreds of them, and mapped on their own
  // they go back to the OS when collected instead of fragmenting the arenas between longer-lived
  // allocations. Measured with `npm run bench`, section lambda, on a loaded 2-core machine: see
  // docs/SCALING.md.
  MALLOC_ARENA_MAX: '2',
  MALLOC_MMAP_THRESHOLD_: '65536',
  MALLOC_TRIM_THRESHOLD_: '131072',
};

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
        ...PIPELINE_RUNTIME_ENVIRONMENT,
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
