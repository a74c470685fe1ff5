/** One HTTP request and its whole (size-capped) body, with a timeout; no retries here. */
import { PageBudgetPreemptedError, type PageBudget, type PageReservation } from '../memory/page-budget';

export interface HttpRequest {
  readonly method: 'GET' | 'POST';
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
  /**
   * Set for a System Log page: a 200 body is kept as raw chunks (`pageBody`), every byte counted
   * against this budget as it is read, up to `maxResponseBytes`.
   */
  readonly pageBudget?: PageBudget;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: Headers;
  /**
   * The body as text, for answers other than a page: at most `MAX_TEXT_BODY_BYTES` are read (an
   * error or token answer is small; a larger one is cut, never buffered whole).
   */
  readonly body: string;
  /** A page's body (200 to a request with `pageBudget`): raw chunks, counted by `reservation`. */
  readonly pageBody?: { readonly chunks: Uint8Array[]; readonly bytes: number; readonly reservation: PageReservation };
}

/** Bytes read of any body that is not a page. */
export const MAX_TEXT_BODY_BYTES = 64 * 1024;
/** Bytes of an oversized page kept to show what it began with (its quarantine entry). */
export const OVERSIZED_HEAD_BYTES = 64 * 1024;

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

/**
 * A page body is larger than `maxResponseBytes`; retrying the same request would only fetch it
 * again. Carries the answer's headers (its `Link`) and the first bytes of the body.
 */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';

  constructor(
    message: string,
    readonly headers: Headers,
    readonly head: Uint8Array,
  ) {
    super(message);
  }
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
    if (request.pageBudget !== undefined && response.status === 200) {
      const pageBody = await readPage(response, bounds.maxResponseBytes, request.pageBudget, signal);
      return { status: response.status, headers: response.headers, body: '', pageBody };
    }
    const body = await readText(response, MAX_TEXT_BODY_BYTES);
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    if (callerSignal?.aborted) throw callerSignal.reason;
    if (error instanceof ResponseTooLargeError || error instanceof PageBudgetPreemptedError) throw error;
    if (timeout.aborted) {
      throw new TransientExchangeError(`no complete answer within ${bounds.requestTimeoutMs} ms (requestTimeoutMs)`);
    }
    throw new TransientExchangeError(`connection failed: ${describeNetworkError(error)}`, { cause: error });
  }
}

/** Reads at most `maxBytes` of a body as text; the rest is not read. */
async function readText(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = maxBytes - size;
    chunks.push(value.byteLength > room ? value.subarray(0, room) : value);
    size += Math.min(room, value.byteLength);
    if (size >= maxBytes) {
      await reader.cancel();
      break;
    }
  }
  return Buffer.concat(chunks, size).toString('utf8');
}

/**
 * Reads a page body as raw chunks, counting each against the run's page budget before it is kept
 * (waiting while the budget is full: the socket is not read meanwhile). Over `maxBytes` the read
 * stops and the bytes are given back.
 */
async function readPage(
  response: Response,
  maxBytes: number,
  budget: PageBudget,
  signal: AbortSignal,
): Promise<NonNullable<HttpResponse['pageBody']>> {
  const reservation = budget.reserve();
  try {
    const declared = Number(response.headers.get('content-length'));
    if (Number.isFinite(declared) && declared > maxBytes) {
      // The head is read all the same, as when the bound is met while streaming: an event that
      // alone is too large is quarantined with its first bytes (its uuid among them), not empty.
      const head: Uint8Array[] = [];
      let headBytes = 0;
      if (response.body) {
        const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
        while (headBytes < OVERSIZED_HEAD_BYTES) {
          const { done, value } = await reader.read();
          if (done) break;
          head.push(value);
          headBytes += value.byteLength;
        }
        await reader.cancel();
      }
      throw new ResponseTooLargeError(
        `response of ${declared} bytes exceeds maxResponseBytes (${maxBytes})`,
        response.headers,
        headOf(head, OVERSIZED_HEAD_BYTES),
      );
    }
    const chunks: Uint8Array[] = [];
    let size = 0;
    if (response.body) {
      const reader: ReadableStreamDefaultReader<Uint8Array> = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (size + value.byteLength > maxBytes) {
          await reader.cancel();
          throw new ResponseTooLargeError(
            `response exceeds maxResponseBytes (${maxBytes})`,
            response.headers,
            headOf([...chunks, value], OVERSIZED_HEAD_BYTES),
          );
        }
        try {
          await reservation.grow(value.byteLength, signal);
        } catch (error) {
          // Preempted or aborted: the rest of the body is not wanted, and a body left unread
          // would hold its connection (and what the socket buffered) until it is collected.
          await reader.cancel().catch(() => undefined);
          throw error;
        }
        chunks.push(value);
        size += value.byteLength;
      }
    }
    return { chunks, bytes: size, reservation };
  } catch (error) {
    reservation.release();
    throw error;
  }
}

/** A copy of the first `length` bytes of `chunks` (copying only those). */
function headOf(chunks: readonly Uint8Array[], length: number): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const chunk of chunks) {
    if (size >= length) break;
    parts.push(chunk.subarray(0, length - size));
    size += Math.min(chunk.byteLength, length - size);
  }
  return Uint8Array.from(Buffer.concat(parts, size));
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
