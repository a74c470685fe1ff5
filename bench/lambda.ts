/**
 * Bench section `lambda`: the puller as CDK ships it, run the way Lambda runs it. Bundles the
 * handler with esbuild using `lib/pipeline-function.ts`' options (minified CJS, source map, SDK
 * bundled, module-first), starts every child `node` with the flags the Lambda Node.js runtime
 * derives from the function's memory (`lambdaNodeFlags`, at the stack's default
 * `pullerMemoryMb`) and the function's runtime environment (`PIPELINE_RUNTIME_ENVIRONMENT`:
 * NODE_OPTIONS and glibc's malloc tunables), and reports
 * - `bundleBytes`: the bundle's size;
 * - `initMs` / `emptyInitMs`: median time to load the bundle in a fresh `node` process (the
 *   module-load part of a cold start), next to the same for an empty handler;
 * - `peakRssMb`: the peak resident memory of a separate process running the bundled handler
 *   until 10 sources × 10,000 events are delivered, against `memoryMb` (a Lambda is stopped when
 *   it uses more than its memory). The orgs, DynamoDB, Secrets Manager and S3 are the local
 *   stand-ins in this process; Kinesis is a discarding endpoint, because kinesalite's per-record
 *   storage would be the bottleneck. A few invalid events per org go through the S3 quarantine,
 *   so every client of the bundle is exercised.
 * - `hostilePeakRssMb`: the same for a hostile run at full concurrency: one org whose event holds
 *   a 12 MiB heap bomb (`[{},{},...]` in `debugData`, twenty times that once parsed) and eight
 *   orgs whose pages are 31 MiB (1,000 events of 31 KiB). `hostileCompleted` is 1 when that
 *   process finished under the Lambda's heap flags (it would die with "heap out of memory"
 *   otherwise), with `hostileDelivered` records and `hostileQuarantined` events in S3.
 * What it cannot reproduce: Lambda's CPU share at 256 MB (about a sixth of a vCPU), so times are
 * lower here than in Lambda; memory does not depend on it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { sourceSecretString } from '../lambdas/contracts/source-secret';
import { startKinesisDiscardServer } from '../local/aws/kinesis-discard-server';
import { startLocalAws } from '../local/aws/local-aws';
import { startOktaOrg, type EmulatedOrg } from '../local/okta-emulator';
import { CONTEXT_DEFAULTS } from '../lib/config';
import { PIPELINE_BUNDLING, PIPELINE_RUNTIME_ENVIRONMENT } from '../lib/pipeline-function';
import type { BenchSection } from './section';

const SOURCES = 10;
const EVENTS_PER_SOURCE = 10_000;
/** Invalid events per source, quarantined in S3 (not counted in EVENTS_PER_SOURCE). */
const INVALID_PER_SOURCE = 5;
/** The memory the stack gives the puller by default: the figure the run must fit. */
const MEMORY_MB = CONTEXT_DEFAULTS.pullerMemoryMb;
/** Fresh processes per init figure; the median hides one slow disk read. */
const INIT_SAMPLES = 5;
/** Runs allowed to deliver the whole backlog (each stops at its own budget). */
const MAX_RUNS = 10;
/** The hostile case: orgs of 31 MiB pages (one page each), and the heap bomb's size. */
const BIG_PAGE_ORGS = 8;
const BIG_EVENT_BYTES = 31 * 1024;
const BIG_EVENTS_PER_ORG = 1_000;
const HEAP_BOMB_BYTES = 12 * 1024 * 1024;
/** Ordinary events of the heap-bomb org, after the bomb: they must still be delivered. */
const BOMB_ORG_EVENTS = 100;
const ROOT = path.resolve(__dirname, '..');

async function bundle(entry: string, outfile: string): Promise<number> {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    minify: PIPELINE_BUNDLING.minify,
    sourcemap: PIPELINE_BUNDLING.sourceMap,
    sourcesContent: PIPELINE_BUNDLING.sourcesContent,
    mainFields: PIPELINE_BUNDLING.mainFields,
    logLevel: 'silent',
  });
  return statSync(outfile).size;
}

/**
 * The flags the Lambda Node.js runtime starts `node` with for a function of `memoryMb`. Its
 * bootstrap script (/var/runtime/bootstrap of the public.ecr.aws/lambda/nodejs images; the same
 * lines appear in the published copies of the nodejs14.x and nodejs18.x bootstraps) computes, in
 * integer shell arithmetic from AWS_LAMBDA_FUNCTION_MEMORY_SIZE:
 *   new_space=$(expr $AWS_LAMBDA_FUNCTION_MEMORY_SIZE / 10)
 *   semi_space=$(expr $new_space / 2)
 *   old_space=$(expr $AWS_LAMBDA_FUNCTION_MEMORY_SIZE - $new_space)
 * and runs `node --expose-gc --max-http-header-size 81920 --max-semi-space-size=$semi_space
 * --max-old-space-size=$old_space /var/runtime/index.mjs`. At 256 MB: 12 and 231.
 */
export function lambdaNodeFlags(memoryMb: number): string[] {
  const newSpace = Math.floor(memoryMb / 10);
  const semiSpace = Math.floor(newSpace / 2);
  const oldSpace = memoryMb - newSpace;
  return ['--expose-gc', '--max-http-header-size=81920', `--max-semi-space-size=${semiSpace}`, `--max-old-space-size=${oldSpace}`];
}

/** The environment and flags of a child `node` that runs like the deployed function. */
function lambdaLike(env: Record<string, string> = {}): { args: string[]; env: NodeJS.ProcessEnv } {
  return {
    args: lambdaNodeFlags(MEMORY_MB),
    env: { ...process.env, ...env, AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(MEMORY_MB), ...PIPELINE_RUNTIME_ENVIRONMENT },
  };
}

function medianInitMs(file: string): number {
  const samples: number[] = [];
  const { args, env } = lambdaLike();
  for (let sample = 0; sample < INIT_SAMPLES; sample += 1) {
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const child = spawnSync(process.execPath, [...args, '-e', script], { encoding: 'utf8', env });
    if (child.status !== 0) throw new Error(`loading ${file} failed: ${child.stderr}`);
    samples.push(Number(child.stdout));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

/**
 * What the child reports: peak RSS, the peaks of V8's heap and of external memory (sampled every
 * 20 ms), and where the RSS went at the highest sample: V8's heap as reserved (`heapTotalMb`,
 * more than what is used), external memory and the ArrayBuffers in it, and the RSS the process
 * had before the first invocation (node, the bundle, the SDK clients not yet made).
 */
interface ChildReport {
  readonly maxRssMb: number;
  readonly heapMb: number;
  readonly externalMb: number;
  readonly loadedRssMb: number;
  readonly atPeak: {
    readonly rssMb: number;
    readonly heapTotalMb: number;
    readonly heapUsedMb: number;
    readonly externalMb: number;
    readonly arrayBuffersMb: number;
  };
  readonly delivered: number;
  readonly runs: number;
  readonly ms: number;
}

/** Runs the bundled handler in its own process until the backlog is delivered; returns its report. */
function runInChild(bundleFile: string, env: Record<string, string>, target: number): Promise<ChildReport> {
  const script = `
    const { handler } = require(${JSON.stringify(bundleFile)});
    const mb = (bytes) => Math.round(bytes / 104857.6) / 10;
    const loadedRssMb = mb(process.memoryUsage().rss);
    let heapMb = 0, externalMb = 0, atPeak = { rssMb: 0 };
    setInterval(() => {
      const usage = process.memoryUsage();
      heapMb = Math.max(heapMb, usage.heapUsed / 1048576);
      externalMb = Math.max(externalMb, usage.external / 1048576);
      if (mb(usage.rss) > atPeak.rssMb) atPeak = { rssMb: mb(usage.rss), heapTotalMb: mb(usage.heapTotal), heapUsedMb: mb(usage.heapUsed), externalMb: mb(usage.external), arrayBuffersMb: mb(usage.arrayBuffers) };
    }, 20).unref();
    (async () => {
      const started = Date.now();
      let delivered = 0, runs = 0;
      while (delivered < ${target} && runs < ${MAX_RUNS}) {
        runs += 1;
        const result = await handler({}, { awsRequestId: 'bench-' + runs, getRemainingTimeInMillis: () => 90000 });
        delivered += result.delivered;
      }
      process.stdout.write(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, heapMb, externalMb, loadedRssMb, atPeak, delivered, runs, ms: Date.now() - started }));
      process.exit(0);
    })().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const lambda = lambdaLike({ ...env, POWERTOOLS_LOG_LEVEL: 'WARN' });
    const child = spawn(process.execPath, [...lambda.args, '-e', script], { env: lambda.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => {
      // The handler's EMF lines share stdout; the report is the last line.
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0) resolve(JSON.parse(last) as ChildReport);
      else if (stderr.includes('heap out of memory'))
        reject(
          new Error(`the bench puller does not fit ${MEMORY_MB} MB: V8's heap limit at that size was reached (${stderr.slice(-500)})`),
        );
      else reject(new Error(`bench puller exited ${code}: ${stderr.slice(-2000)}`));
    });
  });
}

export const lambdaBench: BenchSection = {
  name: 'lambda',
  async run(print) {
    const dir = mkdtempSync(path.join(tmpdir(), 'okta-log-pipeline-bench-'));
    const orgs: EmulatedOrg[] = [];
    try {
      const pullerFile = path.join(dir, 'puller.js');
      const bundleBytes = await bundle(path.join(ROOT, 'lambdas/puller/handler.ts'), pullerFile);
      writeFileSync(path.join(dir, 'empty.ts'), 'export const handler = async (): Promise<object> => ({});\n');
      const emptyBytes = await bundle(path.join(dir, 'empty.ts'), path.join(dir, 'empty.js'));
      const initMs = medianInitMs(pullerFile);
      const emptyInitMs = medianInitMs(path.join(dir, 'empty.js'));
      print(`bundle            ${bundleBytes} bytes (empty handler ${emptyBytes})`);
      print(`cold init (load)  ${initMs.toFixed(1)} ms (empty handler ${emptyInitMs.toFixed(1)} ms), median of ${INIT_SAMPLES}`);

      // The deployed handler refuses loopback orgs; the bench bundles the same handler with them allowed.
      writeFileSync(
        path.join(dir, 'bench-puller.ts'),
        `import { createPullerHandler } from ${JSON.stringify(path.join(ROOT, 'lambdas/puller/handler'))};\nexport const handler = createPullerHandler({ allowLoopback: true });\n`,
      );
      const benchFile = path.join(dir, 'bench-puller.js');
      await bundle(path.join(dir, 'bench-puller.ts'), benchFile);

      const aws = await startLocalAws();
      const kinesis = await startKinesisDiscardServer();
      try {
        for (let index = 0; index < SOURCES; index += 1) {
          const org = await startOktaOrg({ seed: index + 1 });
          orgs.push(org);
          const events = org.generate(EVENTS_PER_SOURCE);
          // An actor that is not an object: stored by the org, quarantined by the puller.
          org.addEvents(events.slice(0, INVALID_PER_SOURCE).map((event) => ({ ...event, uuid: randomUUID(), actor: 'nobody' })));
          await aws.clients.secretsManager.send(
            new CreateSecretCommand({
              Name: `${aws.names.sourceSecretPrefix}org-${index}`,
              SecretString: sourceSecretString({ domain: org.origin, apiToken: org.apiToken }),
            }),
          );
        }
        const report = await runInChild(benchFile, { ...aws.env, AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint }, SOURCES * EVENTS_PER_SOURCE);
        const quarantined = aws.s3.objects(aws.names.quarantineBucketName).size;
        print(
          `${SOURCES} sources x ${EVENTS_PER_SOURCE} events: delivered ${report.delivered} (${kinesis.accepted()} accepted by Kinesis), quarantined ${quarantined}, in ${report.runs} run(s), ${report.ms} ms`,
        );
        print(
          `node flags        ${lambdaNodeFlags(MEMORY_MB).join(' ')} (Lambda's, at ${MEMORY_MB} MB), environment ${Object.entries(
            PIPELINE_RUNTIME_ENVIRONMENT,
          )
            .map(([name, value]) => `${name}=${value}`)
            .join(' ')}`,
        );
        print(
          `peak RSS          ${report.maxRssMb.toFixed(1)} MB of ${MEMORY_MB} MB: ${report.maxRssMb <= MEMORY_MB ? 'fits' : 'DOES NOT FIT'} ` +
            `(sampled peaks: V8 heap ${report.heapMb.toFixed(1)} MB, external ${report.externalMb.toFixed(1)} MB)`,
        );
        print(`  at peak         ${breakdown(report)}`);
        const hostile = await runHostile(benchFile, orgs);
        print(
          `hostile orgs      heap bomb of ${HEAP_BOMB_BYTES} bytes + ${BIG_PAGE_ORGS} orgs of ${BIG_EVENTS_PER_ORG} x ${BIG_EVENT_BYTES}-byte events: ` +
            `${hostile.completed ? 'completed' : 'DID NOT COMPLETE'}, delivered ${hostile.delivered}, quarantined ${hostile.quarantined}, peak RSS ${hostile.maxRssMb.toFixed(1)} MB of ${MEMORY_MB} MB ` +
            `(V8 heap ${hostile.heapMb.toFixed(1)} MB, external ${hostile.externalMb.toFixed(1)} MB)`,
        );
        if (hostile.report !== undefined) print(`  at peak         ${breakdown(hostile.report)}`);
        return {
          bundleBytes,
          initMs: round(initMs),
          emptyInitMs: round(emptyInitMs),
          peakRssMb: round(report.maxRssMb),
          memoryMb: MEMORY_MB,
          hostilePeakRssMb: round(hostile.maxRssMb),
          hostileCompleted: hostile.completed ? 1 : 0,
          hostileDelivered: hostile.delivered,
          hostileQuarantined: hostile.quarantined,
        };
      } finally {
        await kinesis.close();
        await aws.close();
      }
    } finally {
      await Promise.all(orgs.map((org) => org.close()));
      rmSync(dir, { recursive: true, force: true });
    }
  },
};

/**
 * The hostile case, in a fresh process with the Lambda's heap flags: every org is started here
 * (and closed by the caller through `orgs`), the bundled handler runs until all that can be
 * delivered is, or a heap limit kills it (then `completed` is false).
 */
async function runHostile(
  benchFile: string,
  orgs: EmulatedOrg[],
): Promise<{
  completed: boolean;
  maxRssMb: number;
  heapMb: number;
  externalMb: number;
  delivered: number;
  quarantined: number;
  report?: ChildReport;
}> {
  const aws = await startLocalAws();
  const kinesis = await startKinesisDiscardServer();
  try {
    const addSource = async (org: EmulatedOrg, id: string): Promise<void> => {
      orgs.push(org);
      await aws.clients.secretsManager.send(
        new CreateSecretCommand({
          Name: `${aws.names.sourceSecretPrefix}${id}`,
          SecretString: sourceSecretString({ domain: org.origin, apiToken: org.apiToken }),
        }),
      );
    };
    // One string shared by every big event: the emulator's memory stays small, each page is 31 MiB on the wire.
    const padding = 'x'.repeat(BIG_EVENT_BYTES);
    for (let index = 0; index < BIG_PAGE_ORGS; index += 1) {
      const org = await startOktaOrg({ seed: 100 + index });
      const [template] = org.generate(1);
      org.addEvents(
        Array.from({ length: BIG_EVENTS_PER_ORG - 1 }, () => ({
          ...template,
          uuid: randomUUID(),
          debugContext: { debugData: { padding } },
        })),
      );
      await addSource(org, `big-${index}`);
    }
    const bombOrg = await startOktaOrg({ seed: 99 });
    const [bombTemplate] = bombOrg.generate(1);
    // Built as text and parsed once here: small on the wire per object, about 20 times larger parsed.
    const bomb: unknown = JSON.parse(`[${'{},'.repeat(HEAP_BOMB_BYTES / 3 - 1)}{}]`);
    bombOrg.addEvents([{ ...bombTemplate, uuid: randomUUID(), debugContext: { debugData: { bomb } } }]);
    bombOrg.generate(BOMB_ORG_EVENTS);
    await addSource(bombOrg, 'heap-bomb');
    const deliverable = BIG_PAGE_ORGS * BIG_EVENTS_PER_ORG + BOMB_ORG_EVENTS + 1;
    try {
      const report = await runInChild(benchFile, { ...aws.env, AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint }, deliverable);
      return { completed: true, ...report, report, quarantined: aws.s3.objects(aws.names.quarantineBucketName).size };
    } catch (error) {
      process.stdout.write(`hostile run failed: ${error instanceof Error ? error.message.slice(0, 500) : String(error)}\n`);
      return {
        completed: false,
        maxRssMb: Number.NaN,
        heapMb: Number.NaN,
        externalMb: Number.NaN,
        delivered: 0,
        quarantined: aws.s3.objects(aws.names.quarantineBucketName).size,
      };
    }
  } finally {
    await kinesis.close();
    await aws.close();
  }
}

/** Where the highest sampled RSS went: what is not V8's heap nor external is native (node, malloc, code). */
function breakdown(report: ChildReport): string {
  const { rssMb, heapTotalMb, heapUsedMb, externalMb, arrayBuffersMb } = report.atPeak;
  const other = rssMb - heapTotalMb - externalMb;
  return `RSS ${rssMb} MB = V8 heap reserved ${heapTotalMb} (used ${heapUsedMb}) + external ${externalMb} (ArrayBuffers ${arrayBuffersMb}) + other ${other.toFixed(1)}; ${report.loadedRssMb} MB before the first invocation`;
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
