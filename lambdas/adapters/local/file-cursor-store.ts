import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { Clock, Cursor, CursorStore } from '../../core/ports';
import { isPlainObject } from '../../core/json';
import { MemoryLeases } from './memory-cursor-store';

/** The state file's content: one cursor per source id. */
interface StateFile {
  readonly version: 1;
  readonly sources: Record<string, Cursor>;
}

/** The state file cannot be read as a state file; the message says which file and what to do. */
export class StateFileError extends Error {
  override readonly name = 'StateFileError';
}

/**
 * The CLI's cursor store: a JSON state file, replaced atomically (write a temporary file, fsync,
 * rename) after every page, so a crash leaves either the old or the new state, never half of one.
 *
 * Leases live in memory, with the rules of every cursor store (`MemoryLeases`): the CLI is one
 * process per state file, and a lease written to the file would outlive a crashed run and block
 * the user's next one until it expired. So leases fence runs within one process only. The cursor
 * is stored as given: the pull core always sets `updatedAt`.
 */
export class FileCursorStore implements CursorStore {
  private readonly leases: MemoryLeases;

  constructor(
    readonly path: string,
    clock: Clock,
  ) {
    this.leases = new MemoryLeases(clock);
  }

  async acquire(sourceId: string, owner: string, leaseMs: number): Promise<{ cursor: Cursor } | undefined> {
    if (!this.leases.take(sourceId, owner, leaseMs)) return undefined;
    let state: StateFile;
    try {
      state = await this.read();
    } catch (error) {
      // No cursor, no lease: the next run must not wait for a lease nobody used.
      this.leases.give(sourceId, owner);
      throw error;
    }
    return { cursor: state.sources[sourceId] ?? {} };
  }

  async save(sourceId: string, owner: string, cursor: Cursor): Promise<void> {
    this.leases.checkHeld(sourceId, owner);
    const state = await this.read();
    await this.replace({ version: 1, sources: { ...state.sources, [sourceId]: cursor } });
  }

  async release(sourceId: string, owner: string): Promise<void> {
    this.leases.give(sourceId, owner);
  }

  /** The stored cursor of a source (for `sources status`-like output and tests). */
  async cursorOf(sourceId: string): Promise<Cursor | undefined> {
    return (await this.read()).sources[sourceId];
  }

  private async read(): Promise<StateFile> {
    let text: string;
    try {
      text = await fs.readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, sources: {} };
      throw new StateFileError(`cannot read state file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new StateFileError(`state file ${this.path} is not valid JSON; restore it, or delete it to start over from --since`);
    }
    if (!isStateFile(parsed)) {
      throw new StateFileError(
        `state file ${this.path} is not an okta-log-pipeline state file ({"version":1,"sources":{...}}); restore it, or delete it to start over`,
      );
    }
    return parsed;
  }

  private async replace(state: StateFile): Promise<void> {
    const temporary = `${this.path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const handle = await fs.open(temporary, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temporary, this.path);
    } catch (error) {
      await fs.rm(temporary, { force: true });
      throw new StateFileError(`cannot replace state file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    await syncDirectory(dirname(this.path));
  }
}

/** Makes the rename itself durable; some file systems cannot fsync a directory, which only costs durability there. */
async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await fs.open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Not supported here (e.g. some network or Windows file systems): the rename is still atomic.
  }
}

function isStateFile(value: unknown): value is StateFile {
  if (typeof value !== 'object' || value === null) return false;
  const { version, sources } = value as { version?: unknown; sources?: unknown };
  return version === 1 && isPlainObject(sources);
}
