import { createStandInServer, listenOnLoopback, readBody, type LoopbackServer } from './listen';

export interface KinesisDiscardServer extends LoopbackServer {
  /** Records accepted so far. */
  readonly accepted: () => number;
}

/**
 * A Kinesis endpoint (awsJson1.1) that accepts every PutRecords and keeps nothing but a count:
 * for measuring the puller's own memory and time at volumes where kinesalite, which stores and
 * hashes every record, would be the bottleneck.
 */
export async function startKinesisDiscardServer(): Promise<KinesisDiscardServer> {
  let accepted = 0;
  let sequence = 0n;
  const server = createStandInServer(async (request, response) => {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    response.setHeader('content-type', 'application/x-amz-json-1.1');
    if (target !== 'Kinesis_20131202.PutRecords') {
      response.statusCode = 400;
      response.setHeader('x-amzn-errortype', 'UnknownOperationException');
      response.end(JSON.stringify({ __type: 'UnknownOperationException', message: `only PutRecords, not ${target}` }));
      return;
    }
    const { Records } = JSON.parse(body.toString('utf8')) as { Records: unknown[] };
    accepted += Records.length;
    const results = Records.map(() => {
      sequence += 1n;
      return { SequenceNumber: sequence.toString(), ShardId: 'shardId-000000000000' };
    });
    response.end(JSON.stringify({ FailedRecordCount: 0, Records: results }));
  });
  const listening = await listenOnLoopback(server);
  return { ...listening, accepted: () => accepted };
}
