/**
 * Bench section `lambda`: the puller as CDK ships it. Bundles the handler with esbuild the way
 * `lib/pipeline-function.ts` does (minified CJS, SDK bundled), and reports
 * - `bundleBytes`: the bundle's size;
 * - `initMs` / `emptyInitMs`: median time to load the bundle in a fresh `node` process (the
 *   module-load part of a cold start), next to the same for an empty handler;
 * - `peakRssMb`: the peak resident memory of a separate process running the bundled handler
 *   until 10 sources × 10,000 events are delivered (goal: fits a 256 MB Lambda). The orgs,
 *   DynamoDB, Secrets Manager and S3 are the local stand-ins in this process; Kinesis is a
 *   discarding endpoint, because kinesalite's per-record storage would be the bottleneck.
 *   Unconstrained, V8 grows its heap lazily on a big machine, so the figure overstates what the
 *   run needs; `BENCH_CHILD_NODE_OPTIONS=--max-old-space-size=160` measures it under a heap cap
 *   that fits 256 MB.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { build } from 'esbuild';
import { startKinesisDiscardServer } from '../local/aws/kinesis-discard-server';
import { startLocalAws } from '../local/aws/local-aws';
import { startOktaOrg, type EmulatedOrg } from '../local/okta-emulator';
import type { BenchSection } from './section';

const SOURCES = 10;
const EVENTS_PER_SOURCE = 10_000;
/** Fresh processes per init figure; the median hides one slow disk read. */
const INIT_SAMPLES = 5;
/** Runs allowed to deliver the whole backlog (each stops at its own budget). */
const MAX_RUNS = 10;
const ROOT = path.resolve(__dirname, '..');

async function bundle(entry: string, outfile: string): Promise<number> {
  await build({ entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', minify: true, logLevel: 'silent' });
  return statSync(outfile).size;
}

function medianInitMs(file: string): number {
  const samples: number[] = [];
  for (let sample = 0; sample < INIT_SAMPLES; sample += 1) {
    const script = `const t=process.hrtime.bigint();require(${JSON.stringify(file)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
    const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`loading ${file} failed: ${child.stderr}`);
    samples.push(Number(child.stdout));
  }
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)] as number;
}

/** Runs the bundled handler in its own process until the backlog is delivered; returns its report. */
function runInChild(bundleFile: string, env: Record<string, string>): Promise<{ maxRssMb: number; delivered: number; runs: number; ms: number }> {
  const script = `
    const { handler } = require(${JSON.stringify(bundleFile)});
    (async () => {
      const started = Date.now();
      let delivered = 0, runs = 0;
      while (delivered < ${SOURCES * EVENTS_PER_SOURCE} && runs < ${MAX_RUNS}) {
        runs += 1;
        const result = await handler({}, { awsRequestId: 'bench-' + runs, getRemainingTimeInMillis: () => 90000 });
        delivered += result.delivered;
      }
      process.stdout.write(JSON.stringify({ maxRssMb: process.resourceUsage().maxRSS / 1024, delivered, runs, ms: Date.now() - started }));
      process.exit(0);
    })().catch((error) => { process.stderr.write(String(error && error.stack || error)); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', script], { env: { ...process.env, NODE_OPTIONS: process.env.BENCH_CHILD_NODE_OPTIONS ?? '', ...env, POWERTOOLS_LOG_LEVEL: 'WARN' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => {
      // The handler's EMF lines share stdout; the report is the last line.
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code === 0) resolve(JSON.parse(last) as { maxRssMb: number; delivered: number; runs: number; ms: number });
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
          org.generate(EVENTS_PER_SOURCE);
          await aws.clients.secretsManager.send(
            new CreateSecretCommand({ Name: `${aws.names.sourceSecretPrefix}org-${index}`, SecretString: JSON.stringify({ domain: org.origin, apiToken: org.apiToken }) }),
          );
        }
        const report = await runInChild(benchFile, { ...aws.env, AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint });
        print(`${SOURCES} sources x ${EVENTS_PER_SOURCE} events: delivered ${report.delivered} (${kinesis.accepted()} accepted by Kinesis) in ${report.runs} run(s), ${report.ms} ms`);
        print(`peak RSS          ${report.maxRssMb.toFixed(1)} MB (goal: fits 256 MB)`);
        return { bundleBytes, initMs: round(initMs), emptyInitMs: round(emptyInitMs), peakRssMb: round(report.maxRssMb) };
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

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
