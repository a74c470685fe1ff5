import type { RecordSink, SerializedRecord } from '../../core/ports';
import type { NdjsonOutput } from './ndjson-output';

/** The CLI's record sink: one normalised record per NDJSON line, durable before `write` resolves. */
export class NdjsonRecordSink implements RecordSink {
  constructor(private readonly output: NdjsonOutput) {}

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    await this.output.appendLines(records.map((record) => record.json));
    return { rejected: [] };
  }
}
