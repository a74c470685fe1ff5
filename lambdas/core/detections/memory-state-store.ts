import type { JsonObject, StateStore, StoredState } from './state-store';

/**
 * State in process memory: for the `detect` command, the benchmark and tests. Values are copied
 * on the way in and out, as a real store would, so a caller cannot change stored state by accident.
 */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, StoredState>();

  async get(key: string): Promise<StoredState | undefined> {
    const item = this.items.get(key);
    return item === undefined ? undefined : { ...item, value: structuredClone(item.value) };
  }

  async put(key: string, value: JsonObject, expiresAt: number, expectedVersion: number | undefined): Promise<boolean> {
    const current = this.items.get(key);
    if (current?.version !== expectedVersion) return false;
    this.items.set(key, { value: structuredClone(value), version: (expectedVersion ?? 0) + 1, expiresAt });
    return true;
  }

  /** How many keys are stored (for tests of what is and is not kept). */
  get size(): number {
    return this.items.size;
  }
}
