import type { OutputRecord, RecordSink } from '../../core/ports';
import type { NdjsonOutput } from './ndjson-output';

/** The CLI's record sink: one normalised record per NDJSON line, durable before `write` resolves. */
export class NdjsonRecordSink implements RecordSink {
  constructor(private readonly output: NdjsonOutput) {}

  async write(records: readonly OutputRecord[]): Promise<{ rejected: Array<{ record: OutputRecord; reason: string }> }> {
    await this.output.append(records);
    return { rejected: [] };
  }
}
