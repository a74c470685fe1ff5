import { request } from 'node:http';
import { connect } from 'node:net';
import { createStandInServer, listenOnLoopback, readBody, type LoopbackServer } from '../../local/aws/listen';

/**
 * A stand-in's handler failing must never end the process running it (the bench's parent once
 * died of an unhandled ECONNRESET when the puller reset a large upload to the S3 stand-in).
 */

let server: LoopbackServer | undefined;

afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Status of a GET, or the client's error code when the connection is closed without an answer. */
function get(endpoint: string): Promise<number | string> {
  return new Promise((resolve) => {
    const outgoing = request(`${endpoint}/`, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    outgoing.end();
  });
}

describe('stand-in servers', () => {
  it('close the connection of a request whose handler fails, and answer the next one', async () => {
    let calls = 0;
    server = await listenOnLoopback(
      createStandInServer(async (_request, response) => {
        calls += 1;
        if (calls === 1) throw new Error('a stand-in bug');
        response.end('ok');
      }),
    );

    expect(await get(server.endpoint)).toBe('ECONNRESET');
    expect(await get(server.endpoint)).toBe(200);
  });

  it('survive a client that resets in the middle of sending its body', async () => {
    let failed: (reason: unknown) => void = () => undefined;
    const readFailed = new Promise<unknown>((resolve) => (failed = resolve));
    server = await listenOnLoopback(
      createStandInServer(async (incoming, response) => {
        if (incoming.method === 'GET') {
          response.end('ok');
          return;
        }
        try {
          await readBody(incoming);
        } catch (error) {
          failed(error);
          throw error;
        }
      }),
    );
    const { port } = new URL(server.endpoint);
    const socket = connect(Number(port), '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('PUT /bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000000\r\n\r\n{"half":', () => socket.resetAndDestroy());

    expect(await readFailed).toMatchObject({ code: 'ECONNRESET' });
    expect(await get(server.endpoint)).toBe(200);
  });
});
