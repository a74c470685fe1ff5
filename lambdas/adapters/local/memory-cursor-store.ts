import type { Cursor, CursorStore } from '../../core/ports';

/**
 * A cursor that lives only as long as the process: a one-off `pull` without `--state`, and the
 * benchmark. One process pulls one source, so the lease is always granted.
 */
export class MemoryCursorStore implements CursorStore {
  private cursor: Cursor = {};

  async acquire(): Promise<{ cursor: Cursor }> {
    return { cursor: this.cursor };
  }

  async save(_sourceId: string, _owner: string, cursor: Cursor): Promise<void> {
    this.cursor = cursor;
  }

  async release(): Promise<void> {}
}
