import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A loopback server of ours or an emulator, started on a free port. */
export interface LoopbackServer {
  /** `http://127.0.0.1:PORT`: what an SDK client's `endpoint` (or `AWS_ENDPOINT_URL_*`) takes. */
  readonly endpoint: string;
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 port 0 and returns the endpoint, so tests never collide on a port. */
export async function listenOnLoopback(server: Server): Promise<LoopbackServer> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        // Keep-alive sockets of SDK clients would otherwise hold close() open until they time out.
        server.closeAllConnections?.();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Reads a request body whole (the stand-ins only ever see small JSON or object bodies). */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}

/**
 * An HTTP server for a stand-in whose handler may fail without taking its process down: reading
 * a body fails with ECONNRESET when the client resets mid-request (it gave up on a large upload,
 * or its process ended), and an unhandled rejection would end the bench or test that runs the
 * stand-in. Nobody is left to answer such a request, and any other failure is a stand-in bug the
 * client sees as a closed connection (which the SDKs retry and report).
 */
export function createStandInServer(handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>): Server {
  return createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
}
