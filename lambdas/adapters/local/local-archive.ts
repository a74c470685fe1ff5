import { randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { ARCHIVE_ERROR_PREFIX, archivePartitionOf, archivePartitionPrefix } from '../../core/archive/layout';
import { parseJson } from '../../core/json';
import type { Clock, RecordSink, SerializedRecord } from '../../core/ports';

const gzipAsync = promisify(gzip);

/**
 * A local archive directory with the layout and file format Firehose gives the S3 archive
 * (lambdas/core/archive/layout.ts): each `append` writes, per partition, one gzip object of
 * newline-delimited records, named like Firehose's objects. An object appears whole or not at all
 * (written under a temporary name, flushed, then renamed), so `query` never reads half a file.
 */
export class LocalArchive implements RecordSink {
  private sequence = 0;

  constructor(
    readonly directory: string,
    private readonly clock: Pick<Clock, 'now'>,
  ) {}

  /** Appends records given as JSON text (as read back from the stream) or as objects. */
  async append(records: ReadonlyArray<string | object>): Promise<void> {
    const byPrefix = new Map<string, string[]>();
    for (const record of records) {
      const text = typeof record === 'string' ? record : JSON.stringify(record);
      const parsed: unknown = typeof record === 'string' ? parseJson(record) : record;
      const date = archivePartitionOf(parsed);
      // Firehose delivers a record its partition query cannot read under the error prefix.
      const prefix = date === undefined ? `${ARCHIVE_ERROR_PREFIX}partitioning-failed/` : archivePartitionPrefix(date);
      const lines = byPrefix.get(prefix) ?? [];
      lines.push(text);
      byPrefix.set(prefix, lines);
    }
    for (const [prefix, lines] of byPrefix) await this.writeObject(prefix, lines);
  }

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    await this.append(records.map((record) => record.json));
    return { rejected: [] };
  }

  private async writeObject(prefix: string, lines: readonly string[]): Promise<void> {
    const directory = path.join(this.directory, ...prefix.split('/').filter((part) => part !== ''));
    await fs.mkdir(directory, { recursive: true });
    this.sequence += 1;
    // Firehose's object name: <stream name>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>.gz
    const stamp = new Date(this.clock.now()).toISOString().slice(0, 19).replace(/[T:]/g, '-');
    const name = `okta-log-pipeline-local-${this.sequence}-${stamp}-${randomUUID()}.gz`;
    const body = await gzipAsync(Buffer.from(lines.map((line) => `${line}\n`).join(''), 'utf8'));
    const temporary = path.join(directory, `.${name}.tmp`);
    const file = await fs.open(temporary, 'w');
    try {
      await file.write(body);
      await file.datasync();
    } finally {
      await file.close();
    }
    await fs.rename(temporary, path.join(directory, name));
  }
}

/** Writes every batch to each sink in turn (`pull --out FILE --archive DIR`). */
export class TeeRecordSink implements RecordSink {
  constructor(private readonly sinks: readonly RecordSink[]) {}

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    const rejected: Array<{ record: SerializedRecord; reason: string }> = [];
    for (const sink of this.sinks) rejected.push(...(await sink.write(records)).rejected);
    return { rejected };
  }
}
