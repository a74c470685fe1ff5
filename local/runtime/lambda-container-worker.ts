/**
 * Runs inside a worker thread started by `startLambdaContainer`: one emulated Lambda container.
 * It loads the REAL handler module once (a cold start), then answers invocations one at a time,
 * with a fake Lambda context whose remaining time counts down to the invocation's timeout. Its
 * stdout and stderr are what CloudWatch Logs would receive; the parent reads them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Context, KinesisStreamEvent } from 'aws-lambda';
import { lambdaContext } from './lambda-context';
import type { InvocationReply, InvocationRequest, LambdaKind } from './lambda-protocol';
import { SCALED_CLOCK_ENV, scaledClockFromEnvironment } from './scaled-clock';

type Invoke = (request: InvocationRequest) => Promise<unknown>;

/** Lines the current invocation wrote as EMF documents; the puller emits one per source and run. */
let currentMetricLines: string[] = [];

function loadHandler(kind: LambdaKind): Invoke {
  if (kind === 'puller') {
    // The factory of the deployed handler: the same code, except that loopback Okta domains are
    // accepted, and only when the container's environment says so (the local runtime does).
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a container loads only its own Lambda's handler
    const { createPullerHandler } = require('../../lambdas/puller/handler') as typeof import('../../lambdas/puller/handler');
    // The soak compresses time: its containers share a scaled clock with the emulated orgs.
    const clock = scaledClockFromEnvironment(process.env[SCALED_CLOCK_ENV]);
    const handler = createPullerHandler({
      ...(clock === undefined ? {} : { clock }),
      allowLoopback: process.env.OKTA_LOG_PIPELINE_ALLOW_LOOPBACK === '1',
      writeLine: (line) => {
        currentMetricLines.push(line);
        process.stdout.write(`${line}\n`);
      },
    });
    return (request) => handler(request.event, fakeContext(kind, request));
  }
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: a container loads only its own Lambda's handler
  const { handler } = require('../../lambdas/detections/handler') as typeof import('../../lambdas/detections/handler');
  return (request) => handler(request.event as KinesisStreamEvent, fakeContext(kind, request));
}

/** The context of one invocation, its remaining time counting down to the invocation's timeout as Lambda's does. */
function fakeContext(kind: LambdaKind, request: InvocationRequest): Context {
  const deadline = Date.now() + request.timeoutMs;
  return lambdaContext({
    functionName: `okta-log-pipeline-${kind}`,
    requestId: request.requestId,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  });
}

const port = parentPort;
if (port === null) throw new Error('lambda-container-worker: must run in a worker thread started by startLambdaContainer');
const invoke = loadHandler((workerData as { kind: LambdaKind }).kind);
port.on('message', (request: InvocationRequest) => {
  currentMetricLines = [];
  const metricLines = currentMetricLines;
  invoke(request).then(
    (result) => port.postMessage({ id: request.id, ok: true, result, metricLines } satisfies InvocationReply),
    (error: unknown) =>
      port.postMessage({
        id: request.id,
        ok: false,
        errorName: error instanceof Error ? error.name : 'Error',
        errorMessage: error instanceof Error ? error.message : String(error),
        metricLines,
      } satisfies InvocationReply),
  );
});
port.postMessage('ready');
