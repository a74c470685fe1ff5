/**
 * A loopback HTTP server whose every answer the test scripts, for the client behaviours the
 * emulated org does not (or should not) produce on demand: odd rate-limit headers, oversized
 * bodies, redirects, a server that never answers. Records every request it receives.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedAnswer {
  readonly status?: number;
  readonly headers?: Record<string, string | string[]>;
  readonly body?: string;
}

/** `hang`: never answer; `reset`: destroy the connection. */
export type Script = ScriptedAnswer | 'hang' | 'reset';

export interface ReceivedRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export interface ScriptedServer {
  readonly origin: string;
  readonly requests: ReceivedRequest[];
  close(): Promise<void>;
}

export async function startScriptedServer(answer: (request: ReceivedRequest, index: number) => Script): Promise<ScriptedServer> {
  const requests: ReceivedRequest[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      const script = answer(request, requests.length - 1);
      if (script === 'hang') return;
      if (script === 'reset') {
        req.socket.destroy();
        return;
      }
      const body = script.body ?? '[]';
      res.writeHead(script.status ?? 200, { 'content-type': 'application/json', ...script.headers });
      res.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
