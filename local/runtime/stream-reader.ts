import {
  ExpiredIteratorException,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type KinesisClient,
  type ShardIteratorType,
} from '@aws-sdk/client-kinesis';

/** One record read back from the stream. */
export interface StreamRecord {
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly partitionKey: string;
  readonly data: Buffer;
  /** Epoch ms at which Kinesis accepted the record. */
  readonly arrivedAt: number;
}

/** GetRecords' own ceiling of records per call. */
const GET_RECORDS_LIMIT = 10_000;

/**
 * Reads a stream back the way a Kinesis consumer does: every shard from TRIM_HORIZON, then each
 * call from where the last one stopped (the shard iterator kept between calls), so every record is
 * returned exactly once by this reader. An iterator that expired (Kinesis keeps them 5 minutes)
 * is replaced by one after the last sequence number read.
 */
export class StreamReader {
  private readonly shards = new Map<string, { iterator?: string; lastSequenceNumber?: string }>();

  constructor(
    private readonly client: KinesisClient,
    private readonly streamName: string,
  ) {}

  /** Every record that arrived since the previous call, shard by shard in sequence order. */
  async readNew(): Promise<StreamRecord[]> {
    const { Shards = [] } = await this.client.send(new ListShardsCommand({ StreamName: this.streamName }));
    const records: StreamRecord[] = [];
    for (const { ShardId: shardId } of Shards) {
      if (shardId !== undefined) records.push(...(await this.readShard(shardId)));
    }
    return records;
  }

  private async readShard(shardId: string): Promise<StreamRecord[]> {
    const position = this.shards.get(shardId) ?? {};
    this.shards.set(shardId, position);
    const records: StreamRecord[] = [];
    for (;;) {
      position.iterator ??= await this.iterator(shardId, position.lastSequenceNumber);
      if (position.iterator === undefined) return records;
      let page;
      try {
        page = await this.client.send(new GetRecordsCommand({ ShardIterator: position.iterator, Limit: GET_RECORDS_LIMIT }));
      } catch (error) {
        if (!(error instanceof ExpiredIteratorException)) throw error;
        position.iterator = undefined;
        continue;
      }
      for (const record of page.Records ?? []) {
        const sequenceNumber = record.SequenceNumber ?? '';
        records.push({
          shardId,
          sequenceNumber,
          partitionKey: record.PartitionKey ?? '',
          data: Buffer.from(record.Data ?? new Uint8Array()),
          arrivedAt: record.ApproximateArrivalTimestamp?.getTime() ?? 0,
        });
        position.lastSequenceNumber = sequenceNumber;
      }
      position.iterator = page.NextShardIterator;
      // An open shard always hands out a next iterator; an empty page means the tip was reached.
      if ((page.Records ?? []).length === 0 || position.iterator === undefined) return records;
    }
  }

  private async iterator(shardId: string, after: string | undefined): Promise<string | undefined> {
    const type: ShardIteratorType = after === undefined ? 'TRIM_HORIZON' : 'AFTER_SEQUENCE_NUMBER';
    const { ShardIterator } = await this.client.send(
      new GetShardIteratorCommand({
        StreamName: this.streamName,
        ShardId: shardId,
        ShardIteratorType: type,
        ...(after === undefined ? {} : { StartingSequenceNumber: after }),
      }),
    );
    return ShardIterator;
  }
}
