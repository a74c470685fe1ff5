import { randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOnLoopback, readBody, type LoopbackServer } from './listen';

/** A fault injected between an SDK client and an awsJson emulator (kinesalite, dynalite). */
export type AwsJsonFault =
  /** The whole call fails with an AWS error shape, e.g. DynamoDB `ProvisionedThroughputExceededException`. */
  | { readonly kind: 'error'; readonly operation: string; readonly status: number; readonly type: string; readonly message?: string }
  /**
   * A Kinesis PutRecords call partly fails as Kinesis does under load: the chosen entries are not
   * written and come back with an `ErrorCode`; the others really are written.
   */
  | { readonly kind: 'kinesis-partial'; readonly failEntry: (index: number, partitionKey: string) => boolean; readonly errorCode?: string };

export interface ProxiedCall {
  readonly operation: string;
  /** PutRecords: how many entries the caller sent. */
  readonly entries?: number;
  /** Set when this call was answered by an injected fault. */
  readonly fault?: AwsJsonFault['kind'];
}

export interface FaultProxy extends LoopbackServer {
  /** Every call that passed through, in order. */
  readonly calls: ProxiedCall[];
  /** The next `times` calls that match answer with the fault. */
  inject(fault: AwsJsonFault, times?: number): void;
}

/**
 * A loopback proxy in front of an awsJson emulator that forwards every call unchanged unless a
 * fault is armed for it. Point the SDK client at the proxy's endpoint; the soak and the
 * integration tests arm faults while the real clients run.
 */
export async function startFaultProxy(targetEndpoint: string): Promise<FaultProxy> {
  const target = new URL(targetEndpoint);
  const calls: ProxiedCall[] = [];
  const armed: Array<{ fault: AwsJsonFault; remaining: number }> = [];

  function take(operation: string): AwsJsonFault | undefined {
    const match = armed.find(
      ({ fault, remaining }) => remaining > 0 && (fault.kind === 'error' ? fault.operation === operation : operation === 'PutRecords'),
    );
    if (match === undefined) return undefined;
    match.remaining -= 1;
    return match.fault;
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const operation =
      String(request.headers['x-amz-target'] ?? '')
        .split('.')
        .pop() ?? '';
    const input =
      operation === 'PutRecords' ? (JSON.parse(body.toString('utf8')) as { Records: Array<{ PartitionKey?: string }> }) : undefined;
    const fault = take(operation);
    calls.push({ operation, ...(input ? { entries: input.Records.length } : {}), ...(fault ? { fault: fault.kind } : {}) });

    if (fault?.kind === 'error') {
      return sendJson(
        response,
        request.headers,
        fault.status,
        { __type: fault.type, message: fault.message ?? `Injected ${fault.type}.` },
        fault.type,
      );
    }
    if (fault?.kind === 'kinesis-partial' && input !== undefined) {
      const failed = input.Records.map((entry, index) => fault.failEntry(index, entry.PartitionKey ?? ''));
      const kept = input.Records.filter((_, index) => !failed[index]);
      let written: Array<Record<string, unknown>> = [];
      if (kept.length > 0) {
        const upstream = await forward(target, request, Buffer.from(JSON.stringify({ ...input, Records: kept })));
        if (upstream.status !== 200) return relay(response, upstream);
        written = (JSON.parse(upstream.body.toString('utf8')) as { Records: Array<Record<string, unknown>> }).Records;
      }
      const errorCode = fault.errorCode ?? 'ProvisionedThroughputExceededException';
      const records = failed.map((isFailed) =>
        isFailed ? { ErrorCode: errorCode, ErrorMessage: `Injected ${errorCode}.` } : (written.shift() as Record<string, unknown>),
      );
      return sendJson(response, request.headers, 200, {
        FailedRecordCount: records.filter((record) => 'ErrorCode' in record).length,
        Records: records,
      });
    }
    return relay(response, await forward(target, request, body));
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      sendJson(
        response,
        request.headers,
        500,
        { __type: 'InternalFailure', message: `fault proxy: ${error instanceof Error ? error.message : String(error)}` },
        'InternalFailure',
      );
    });
  });
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    calls,
    inject(fault, times = 1) {
      armed.push({ fault, remaining: times });
    },
  };
}

interface Upstream {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function forward(target: URL, request: IncomingMessage, body: Buffer): Promise<Upstream> {
  return new Promise((resolve, reject) => {
    const headers = { ...request.headers, host: target.host, 'content-length': String(body.length) };
    const upstream = httpRequest(
      { hostname: target.hostname, port: target.port, path: request.url, method: request.method, headers },
      (reply) => {
        readBody(reply).then((replyBody) => resolve({ status: reply.statusCode ?? 500, headers: reply.headers, body: replyBody }), reject);
      },
    );
    upstream.on('error', reject);
    upstream.end(body);
  });
}

function relay(response: ServerResponse, upstream: Upstream): void {
  response.statusCode = upstream.status;
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value !== undefined && name !== 'connection' && name !== 'transfer-encoding') response.setHeader(name, value);
  }
  response.end(upstream.body);
}

function sendJson(response: ServerResponse, requestHeaders: IncomingHttpHeaders, status: number, body: unknown, errorType?: string): void {
  response.statusCode = status;
  // Answer in the protocol the client spoke: awsJson1.0 (DynamoDB) or awsJson1.1 (Kinesis).
  response.setHeader('content-type', String(requestHeaders['content-type'] ?? 'application/x-amz-json-1.1'));
  response.setHeader('x-amzn-requestid', randomUUID());
  if (errorType !== undefined) response.setHeader('x-amzn-errortype', errorType);
  response.end(JSON.stringify(body));
}
