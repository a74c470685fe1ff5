/** One HTTP request and its whole (size-capped) body, with a timeout; no retries here. */

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly body: string;
}

export interface ExchangeBounds {
  readonly requestTimeoutMs: number;
  readonly maxResponseBytes: number;
}

/**
 * The exchange failed in a way that another attempt may fix: connection error, timeout, a body
 * cut short. `detail` is our own description; `cause` is the network error, which never holds
 * request headers (so never the credential).
 */
export class TransientExchangeError extends Error {
  override readonly name = 'TransientExchangeError';
}

/** The body is larger than `maxResponseBytes`; retrying would only fetch it again. */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';
}

export async function exchange(
  fetchImpl: typeof fetch,
  request: HttpRequest,
  bounds: ExchangeBounds,
  callerSignal: AbortSignal | undefined,
): Promise<HttpResponse> {
  // The timeout is a bound on network I/O, not a wait of the pipeline, so it runs on real timers:
  // a virtual clock in tests must not expire a request that is still in flight.
  const timeout = AbortSignal.timeout(bounds.requestTimeoutMs);
  const signal = callerSignal ? AbortSignal.any([callerSignal, timeout]) : timeout;
  try {
    const init: RequestInit = { method: request.method, headers: request.headers, signal, redirect: 'manual' };
    if (request.body !== undefined) init.body = request.body;
    const response = await fetchImpl(request.url, init);
    const body = await readCapped(response, bounds.maxResponseBytes);
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    if (error instanceof ResponseTooLargeError) throw error;
    if (timeout.aborted) {
      throw new TransientExchangeError(`no complete answer within ${bounds.requestTimeoutMs} ms (requestTimeoutMs)`);
    }
    throw new TransientExchangeError(`connection failed: ${describeNetworkError(error)}`, { cause: error });
  }
}

async function readCapped(response: Response, maxBytes: number): Promise<string> {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > maxBytes) {
    await response.body?.cancel();
    throw new ResponseTooLargeError(`response of ${declared} bytes exceeds maxResponseBytes (${maxBytes})`);
  }
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      throw new ResponseTooLargeError(`response exceeds maxResponseBytes (${maxBytes})`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/** undici reports the useful part (ECONNREFUSED, "other side closed") in `cause`. */
function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause: unknown = error.cause;
  if (cause instanceof Error) {
    const code = (cause as NodeJS.ErrnoException).code;
    return code ? `${error.message} (${code})` : `${error.message} (${cause.message})`;
  }
  return error.message;
}
