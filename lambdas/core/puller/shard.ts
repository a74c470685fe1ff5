/**
 * Sharding of the sources across several puller invocations a minute (CDK context `pullerShards`).
 * Each scheduled invocation gets `{"shard": i, "shards": N}` and pulls only the sources whose
 * stable hash falls in shard i, so every source is pulled by exactly one invocation a minute and
 * its metrics are emitted once. Re-sharding (a new N) moves sources between invocations; the
 * per-source leases make the overlap during that minute harmless.
 */

/** Which part of the sources one invocation pulls. */
export interface PullerShard {
  /** 0-based, below `count`. */
  readonly index: number;
  readonly count: number;
}

/** No `shard`/`shards` in the event: one invocation pulls every source (the default schedule). */
export const SINGLE_SHARD: PullerShard = { index: 0, count: 1 };

/**
 * The most shards a deployment may ask for. One shard covers about 1,400 caught-up sources a
 * minute (docs/SCALING.md); 20 leave room for 160 simultaneous backfills (8 slots each) across
 * 500 sources, and keep the schedule at 4 EventBridge rules (5 targets each). Beyond this the
 * bottleneck is no longer the invocation but ListSecrets, which every shard calls each minute.
 */
export const MAX_PULLER_SHARDS = 20;

/** The invocation's event is not a valid shard assignment: the schedule (or a manual invoke) is wrong. */
export class PullerInputError extends Error {
  constructor(message: string) {
    super(
      `puller input: ${message}; expected {"shard": i, "shards": N} with 0 <= i < N <= ${MAX_PULLER_SHARDS}, or neither key to pull every source`,
    );
    this.name = 'PullerInputError';
  }
}

/**
 * Reads the shard assignment from the invocation's event. An event without `shard` and `shards`
 * (the scheduled event of an older stack, a console test with `{}`) means shard 0 of 1: every source.
 */
export function parsePullerInput(event: unknown): PullerShard {
  if (event === undefined || event === null) return SINGLE_SHARD;
  if (typeof event !== 'object' || Array.isArray(event)) {
    throw new PullerInputError(`the event must be a JSON object, got ${Array.isArray(event) ? 'an array' : `a ${typeof event}`}`);
  }
  const fields = event as Record<string, unknown>;
  const hasShard = 'shard' in fields;
  const hasShards = 'shards' in fields;
  if (!hasShard && !hasShards) return SINGLE_SHARD;
  if (!hasShards) throw new PullerInputError('"shard" is given without "shards"');
  if (!hasShard) throw new PullerInputError('"shards" is given without "shard"');
  const count = fields.shards;
  const index = fields.shard;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_PULLER_SHARDS) {
    throw new PullerInputError(`"shards" must be a whole number from 1 to ${MAX_PULLER_SHARDS}, got ${describe(count)}`);
  }
  if (typeof index !== 'number' || !Number.isInteger(index) || index < 0 || index >= count) {
    throw new PullerInputError(`"shard" must be a whole number from 0 to ${count - 1} (shards is ${count}), got ${describe(index)}`);
  }
  return { index, count };
}

/**
 * The shard of a source: 32-bit FNV-1a of the id's UTF-8 bytes, modulo the shard count.
 * Deterministic across runs, containers and Node versions (no seed, no Math.random), cheap for
 * 500 ids, and spreads similar ids (`acme-1`, `acme-2`) evenly. Changing this function re-shards
 * every deployment once, which the leases make safe but which would be a pointless churn.
 */
export function shardOfSource(sourceId: string, shards: number): number {
  return fnv1a32(sourceId) % shards;
}

/** Whether `sourceId` belongs to `shard`. */
export function inShard(sourceId: string, shard: PullerShard): boolean {
  return shard.count === 1 || shardOfSource(sourceId, shard.count) === shard.index;
}

const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const utf8 = new TextEncoder();

/** 32-bit FNV-1a (http://www.isthe.com/chongo/tech/comp/fnv/), as an unsigned integer. */
export function fnv1a32(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of utf8.encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, FNV_PRIME);
  }
  return hash >>> 0;
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}
