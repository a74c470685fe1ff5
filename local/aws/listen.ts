import type { Server } from 'node:http';
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
export function readBody(request: import('node:http').IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks)));
    request.on('error', reject);
  });
}
