import { Duration } from 'aws-cdk-lib';
import { Stream, StreamEncryption, StreamMode, type IStream } from 'aws-cdk-lib/aws-kinesis';
import { Construct } from 'constructs';
import { CONTEXT_DEFAULTS } from './config';

export interface EventStreamProps {
  /**
   * ON_DEMAND scales with the one-minute bursts; PROVISIONED needs `shardCount`.
   * @default 'ON_DEMAND'
   */
  readonly mode?: 'ON_DEMAND' | 'PROVISIONED';
  /**
   * Shards of a PROVISIONED stream (each takes 1 MiB/s or 1,000 records/s of writes).
   * @default 1 when `mode` is PROVISIONED (ignored for ON_DEMAND)
   */
  readonly shardCount?: number;
  /**
   * How long records stay readable.
   * @default Duration.hours(24)
   */
  readonly retention?: Duration;
}

/** The Kinesis stream that receives one record per Okta event, encrypted at rest with KMS. */
export class EventStream extends Construct {
  readonly stream: IStream;

  constructor(scope: Construct, id: string, props: EventStreamProps = {}) {
    super(scope, id);
    const mode = props.mode ?? CONTEXT_DEFAULTS.streamMode;
    this.stream = new Stream(this, 'Stream', {
      streamMode: mode === 'ON_DEMAND' ? StreamMode.ON_DEMAND : StreamMode.PROVISIONED,
      shardCount: mode === 'PROVISIONED' ? (props.shardCount ?? 1) : undefined,
      // KMS with the AWS-managed aws/kinesis key (cdk-nag KDS3): a customer key would bill KMS
      // calls per producer and consumer, while reading the stream is already gated by IAM.
      encryption: StreamEncryption.MANAGED,
      retentionPeriod: props.retention ?? Duration.hours(CONTEXT_DEFAULTS.streamRetentionHours),
    });
  }
}
