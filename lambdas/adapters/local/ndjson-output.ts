import { promises as fs, type WriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Writable } from 'node:stream';

/**
 * An append-only NDJSON destination. `append` resolves only once its lines are durable: on a file,
 * written and fsync'ed (so a cursor saved afterwards never points past lost lines); on a stream
 * (stdout), handed to the operating system.
 */
export class NdjsonOutput {
  private constructor(
    private readonly target: { readonly file: FileHandle; readonly path: string } | { readonly stream: Writable | WriteStream },
  ) {}

  /** Appends to `path`, creating it: resuming a pull continues the same file instead of clobbering it. */
  static async openFile(path: string): Promise<NdjsonOutput> {
    return new NdjsonOutput({ file: await fs.open(path, 'a'), path });
  }

  static toStream(stream: Writable): NdjsonOutput {
    return new NdjsonOutput({ stream });
  }

  async append(values: readonly unknown[]): Promise<void> {
    await this.appendLines(values.map((value) => JSON.stringify(value)));
  }

  /** Appends lines that are already JSON text (one value each, no line break inside). */
  async appendLines(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    const text = lines.map((line) => `${line}\n`).join('');
    if ('file' in this.target) {
      await this.target.file.write(text);
      await this.target.file.datasync();
      return;
    }
    const stream = this.target.stream;
    await new Promise<void>((resolve, reject) => {
      stream.write(text, (error) => (error ? reject(error) : resolve()));
    });
  }

  /** Closes a file; a stream (stdout, stderr) belongs to the process and stays open. */
  async close(): Promise<void> {
    if ('file' in this.target) await this.target.file.close();
  }
}
