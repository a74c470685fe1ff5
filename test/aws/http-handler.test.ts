import { createServer, type Server, type Socket } from 'node:net';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisRecordSink } from '../../lambdas/adapters/aws/kinesis-record-sink';
import { KinesisWriteError } from '../../lambdas/adapters/aws/errors';
import type { OutputRecord, SerializedRecord } from '../../lambdas/core/ports';
import { awsHttpHandler } from '../../lambdas/adapters/aws/http-handler';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { VirtualClock } from '../support/virtual-clock';

/** A stream endpoint that accepts connections and never answers: a black-holed AWS call. */
let server: Server;
const sockets: Socket[] = [];
let endpoint: string;
beforeEach(async () => {
  server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const fields: OutputRecord = {
  uuid: 'a1b2c3',
  p_log_type: 'Okta.SystemLog',
  p_event_time: '2026-01-01 00:00:00.000000000',
  p_parse_time: '2026-01-01 00:00:01.000000000',
  p_row_id: 'row-1',
  p_source_id: 'acme',
  p_source_label: 'Acme',
};
const record: SerializedRecord = { uuid: fields.uuid, json: JSON.stringify(fields) };

describe('awsHttpHandler (the SDK request handler of both Lambdas)', () => {
  // The runtime's bounds are seconds; the same handler with short bounds shows they end the call.
  it('fails a call that gets no answer within requestTimeout instead of hanging the run', async () => {
    const client = new KinesisClient({
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      endpoint,
      maxAttempts: 1,
      requestHandler: awsHttpHandler({ connectionTimeoutMs: 200, requestTimeoutMs: 200 }),
    });
    const sink = new KinesisRecordSink({
      client,
      streamName: 'okta',
      clock: new VirtualClock(),
      backoff: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
    });
    try {
      const outcome = await Promise.race([
        sink.write([record]).then(
          () => 'written',
          (error: unknown) => error,
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 3 s'), 3_000).unref()),
      ]);
      expect(outcome).toBeInstanceOf(KinesisWriteError);
      expect(String((outcome as Error).message)).toContain('TimeoutError');
    } finally {
      client.destroy();
    }
  });
});
