import type { StateStore, StoredState } from './ports';
import type { JsonObject } from './json';

/**
 * State in process memory: for the `detect` command, the benchmark and tests. Values are kept as
 * JSON text, as the DynamoDB store keeps them, so a caller cannot change stored state by accident
 * and what survives a round trip is the same in both.
 */
export class MemoryStateStore implements StateStore {
  private readonly items = new Map<string, { readonly json: string; readonly version: number; readonly expiresAt: number }>();

  async get(key: string): Promise<StoredState | undefined> {
    const item = this.items.get(key);
    if (item === undefined) return undefined;
    return { value: JSON.parse(item.json) as JsonObject, version: item.version, expiresAt: item.expiresAt };
  }

  async put(key: string, value: JsonObject, expiresAt: number, expectedVersion: number | undefined): Promise<boolean> {
    const current = this.items.get(key);
    if (current?.version !== expectedVersion) return false;
    this.items.set(key, { json: JSON.stringify(value), version: (expectedVersion ?? 0) + 1, expiresAt });
    return true;
  }

  /** How many keys are stored (for tests of what is and is not kept). */
  get size(): number {
    return this.items.size;
  }
}
