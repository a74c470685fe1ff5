/**
 * An emulated Lambda container: a worker thread that loads one real handler module and runs its
 * invocations one at a time, as a Lambda execution environment does. A worker (not a plain
 * import) because that is what makes the emulation honest where it matters:
 * - each container has its own `process.env` and its own module state (SDK clients, caches),
 *   so two containers are two cold starts, and the parent's environment is never touched;
 * - its stdout/stderr are its CloudWatch Logs, captured line by line and kept out of the terminal;
 * - an invocation that outlives its timeout is killed with the whole container, mid-flight, like
 *   a Lambda timeout or crash (the soak aborts runs this way with `kill()`).
 */
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { Worker } from 'node:worker_threads';
import { join } from 'node:path';
import type { InvocationReply, InvocationRequest, LambdaKind } from './lambda-protocol';

export type { LambdaKind } from './lambda-protocol';

/** A log line of a container, as CloudWatch Logs would store it. */
export interface LambdaLogLine {
  readonly container: string;
  readonly stream: 'stdout' | 'stderr';
  readonly line: string;
}

export interface LambdaContainerOptions {
  readonly kind: LambdaKind;
  /** Shown in log lines, e.g. `puller-1`. */
  readonly name: string;
  /** The container's whole environment (the parent's is not inherited). */
  readonly env: Readonly<Record<string, string>>;
  /** The function's timeout; an invocation still running after it kills the container. */
  readonly timeoutMs: number;
  readonly onLogLine: (line: LambdaLogLine) => void;
}

export interface LambdaInvocation {
  readonly requestId: string;
  /** What the handler returned (structured-cloned out of the container). */
  readonly result: unknown;
  /** The EMF documents the invocation wrote (the puller's metrics), one JSON line each. */
  readonly metricLines: readonly string[];
}

/** The handler threw or rejected: the invocation failed, the container lives on. */
export class LambdaHandlerError extends Error {
  constructor(
    readonly container: string,
    readonly handlerErrorName: string,
    handlerMessage: string,
  ) {
    super(`${container}: the handler failed: ${handlerErrorName}: ${handlerMessage}`);
    this.name = 'LambdaHandlerError';
  }
}

/** The container died before answering: timeout, `kill()`, or an uncaught error in the worker. */
export class LambdaContainerDiedError extends Error {
  constructor(
    readonly container: string,
    readonly reason: string,
    options?: { cause?: unknown },
  ) {
    super(`${container}: the container died before the invocation finished: ${reason}`, options);
    this.name = 'LambdaContainerDiedError';
  }
}

export interface LambdaContainer {
  readonly name: string;
  readonly kind: LambdaKind;
  /** False once the container died (timeout, kill, crash); further invocations are refused. */
  readonly alive: boolean;
  /** Runs one invocation after any earlier one of this container has finished. */
  invoke(event: unknown, options?: { readonly requestId?: string }): Promise<LambdaInvocation>;
  /** Kills the container now, in the middle of whatever it is doing. */
  kill(reason?: string): Promise<void>;
}

/**
 * Starts a container and waits for its cold start (the handler module loaded). The worker
 * registers tsx itself, so it runs the TypeScript sources under the CLI and under jest alike.
 */
export async function startLambdaContainer(options: LambdaContainerOptions): Promise<LambdaContainer> {
  const bootstrap = `require(${JSON.stringify(require.resolve('tsx/cjs/api'))}).register();
require(${JSON.stringify(join(__dirname, 'lambda-container-worker.ts'))});`;
  const worker = new Worker(bootstrap, {
    eval: true,
    env: { ...options.env },
    workerData: { kind: options.kind },
    stdout: true,
    stderr: true,
  });
  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: worker[stream], crlfDelay: Infinity }).on('line', (line) =>
      options.onLogLine({ container: options.name, stream, line }),
    );
  }

  let alive = true;
  let nextId = 1;
  let queue: Promise<unknown> = Promise.resolve();
  const pending = new Map<number, { resolve: (reply: InvocationReply) => void; reject: (error: Error) => void }>();
  let deathReason = 'the container was never started';

  const die = (reason: string, cause?: unknown): void => {
    if (!alive) return;
    alive = false;
    deathReason = reason;
    for (const { reject } of pending.values()) reject(new LambdaContainerDiedError(options.name, reason, { cause }));
    pending.clear();
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void =>
      reject(new LambdaContainerDiedError(options.name, `cold start failed: ${error.message}`, { cause: error }));
    worker.once('error', onError);
    worker.once('message', (message: unknown) => {
      worker.off('error', onError);
      if (message === 'ready') resolve();
      else reject(new LambdaContainerDiedError(options.name, 'cold start answered something other than ready'));
    });
  });
  worker.on('message', (reply: InvocationReply) => {
    const waiter = pending.get(reply.id);
    pending.delete(reply.id);
    waiter?.resolve(reply);
  });
  worker.on('error', (error) => die(`uncaught error: ${error.message}`, error));
  worker.on('exit', (code) => die(`exited with code ${code}`));

  const runOne = async (event: unknown, requestId: string): Promise<LambdaInvocation> => {
    if (!alive) throw new LambdaContainerDiedError(options.name, deathReason);
    const id = nextId;
    nextId += 1;
    const reply = await new Promise<InvocationReply>((resolve, reject) => {
      // Lambda's timeout runs on real time whatever clock the code is given, so this does too.
      const timer = setTimeout(() => {
        die(`timed out after ${options.timeoutMs} ms`);
        void worker.terminate();
      }, options.timeoutMs);
      const settle = (): void => clearTimeout(timer);
      pending.set(id, {
        resolve: (value) => {
          settle();
          resolve(value);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      });
      worker.postMessage({ id, event, requestId, timeoutMs: options.timeoutMs } satisfies InvocationRequest);
    });
    if (!reply.ok) throw new LambdaHandlerError(options.name, reply.errorName, reply.errorMessage);
    return { requestId, result: reply.result, metricLines: reply.metricLines };
  };

  return {
    name: options.name,
    kind: options.kind,
    get alive() {
      return alive;
    },
    invoke(event, invokeOptions = {}) {
      const requestId = invokeOptions.requestId ?? randomUUID();
      const run = queue.then(() => runOne(event, requestId));
      queue = run.catch(() => undefined);
      return run;
    },
    async kill(reason = 'killed') {
      die(reason);
      await worker.terminate();
    },
  };
}
