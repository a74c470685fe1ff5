import type { Quarantine, QuarantinedEvent } from '../../core/ports';
import { quarantineDocument } from '../../core/pull/quarantine-document';
import type { NdjsonOutput } from './ndjson-output';

/**
 * The CLI's quarantine: one line per invalid event, `{sourceId, receivedAt, errors, event}`, the
 * same shape as the S3 quarantine's objects so the same tooling reads both.
 */
export class NdjsonQuarantine implements Quarantine {
  constructor(private readonly output: NdjsonOutput) {}

  async put(items: readonly QuarantinedEvent[]): Promise<void> {
    await this.output.appendLines(items.map((item) => quarantineDocument(item).toString('utf8')));
  }
}
