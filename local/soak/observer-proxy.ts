/**
 * A loopback proxy between ONE emulated Lambda container and an awsJson service (Kinesis,
 * DynamoDB), so the soak knows which run made each call. It records every call with its request
 * and answer, and lets the soak act at exact points of a run: kill the container before a
 * PutRecords is forwarded, after it was written but before the run hears so, or after a cursor
 * save was committed; or race a save with a lease takeover.
 */
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { parseJsonObject } from '../../lambdas/core/json';
import type { Clock } from '../../lambdas/core/ports';
import { listenOnLoopback, readBody, type LoopbackServer } from '../aws/listen';

/** One call as the observer saw it. */
export interface ObservedCall {
  /** The container that made it. */
  readonly container: string;
  /** E.g. `PutRecords`, `UpdateItem`. */
  readonly operation: string;
  readonly request: Record<string, unknown>;
  /** By the soak's clock: when the request reached the observer, and when the answer came back. */
  readonly requestAt: number;
  responseAt?: number;
  /** 0 when the call was never answered (the container was killed first). */
  status: number;
  response?: Record<string, unknown>;
}

/** What the soak decides at a point of a call. */
export type CallVerdict = 'continue' | 'drop';

export interface ObserverHooks {
  /** Before the call is forwarded; `drop` answers nothing (the container is gone). */
  beforeForward(call: ObservedCall): Promise<CallVerdict>;
  /** After the service answered, before the container hears it; `drop` withholds the answer. */
  afterResponse(call: ObservedCall): Promise<CallVerdict>;
}

export interface ObserverProxy extends LoopbackServer {
  readonly calls: ObservedCall[];
}

export async function startObserverProxy(options: {
  container: string;
  target: string;
  clock: Clock;
  hooks: ObserverHooks;
}): Promise<ObserverProxy> {
  const target = new URL(options.target);
  const calls: ObservedCall[] = [];

  async function handle(incoming: IncomingMessage, outgoing: ServerResponse): Promise<void> {
    const body = await readBody(incoming);
    const operation =
      String(incoming.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const call: ObservedCall = {
      container: options.container,
      operation,
      request: parseJsonObject(body.toString('utf8')) ?? {},
      requestAt: options.clock.now(),
      status: 0,
    };
    calls.push(call);
    if ((await options.hooks.beforeForward(call)) === 'drop') {
      outgoing.socket?.destroy();
      return;
    }
    const upstream = await forward(target, incoming, body);
    call.status = upstream.status;
    call.response = parseJsonObject(upstream.body.toString('utf8')) ?? {};
    call.responseAt = options.clock.now();
    if ((await options.hooks.afterResponse(call)) === 'drop') {
      outgoing.socket?.destroy();
      return;
    }
    outgoing.statusCode = upstream.status;
    for (const [name, value] of Object.entries(upstream.headers)) {
      if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding') outgoing.setHeader(name, value);
    }
    outgoing.end(upstream.body);
  }

  const server = createServer((incoming, outgoing) => {
    handle(incoming, outgoing).catch(() => {
      // The container died mid-call, or the service went away at shutdown: nobody is listening.
      outgoing.socket?.destroy();
    });
  });
  const listening = await listenOnLoopback(server);
  return { ...listening, calls };
}

function forward(
  target: URL,
  incoming: IncomingMessage,
  body: Buffer,
): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers = { ...incoming.headers, host: target.host, 'content-length': String(body.length) };
    const upstream = httpRequest(
      { hostname: target.hostname, port: target.port, path: incoming.url, method: incoming.method, headers },
      (reply) => {
        readBody(reply).then((replyBody) => resolve({ status: reply.statusCode ?? 500, headers: reply.headers, body: replyBody }), reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}
