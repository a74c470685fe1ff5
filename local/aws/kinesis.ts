import {
  CreateStreamCommand,
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
} from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import kinesalite from 'kinesalite';
import { listenOnLoopback, type LoopbackServer } from './listen';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './local-credentials';

/** kinesalite in-process on a free loopback port; streams become ACTIVE at once. */
export function startKinesalite(): Promise<LoopbackServer> {
  return listenOnLoopback(kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0 }));
}

/**
 * A Kinesis client for a loopback endpoint: kinesalite speaks HTTP/1.1 only, so the SDK's default
 * HTTP/2 handler fails every call with "Protocol error".
 */
export function localKinesisClient(endpoint: string): KinesisClient {
  return new KinesisClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
}

export async function createStream(client: KinesisClient, streamName: string, shardCount = 1): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: shardCount }));
  for (;;) {
    const { StreamDescription } = await client.send(new DescribeStreamCommand({ StreamName: streamName }));
    if (StreamDescription?.StreamStatus === 'ACTIVE') return;
  }
}

export interface StreamRecord {
  readonly partitionKey: string;
  readonly data: Buffer;
  readonly sequenceNumber: string;
}

/** Everything in the stream, shard by shard from the start: how tests read back what was delivered. */
export async function readStream(client: KinesisClient, streamName: string): Promise<StreamRecord[]> {
  const records: StreamRecord[] = [];
  const { Shards = [] } = await client.send(new ListShardsCommand({ StreamName: streamName }));
  for (const shard of Shards) {
    let { ShardIterator: iterator } = await client.send(
      new GetShardIteratorCommand({ StreamName: streamName, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }),
    );
    while (iterator !== undefined) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10000 }));
      for (const record of page.Records ?? []) {
        records.push({
          partitionKey: record.PartitionKey ?? '',
          data: Buffer.from(record.Data ?? new Uint8Array()),
          sequenceNumber: record.SequenceNumber ?? '',
        });
      }
      // An open shard always hands out a next iterator; an empty page means the tip was reached.
      iterator = (page.Records ?? []).length === 0 ? undefined : page.NextShardIterator;
    }
  }
  return records;
}
