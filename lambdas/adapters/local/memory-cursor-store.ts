import { activityOf, pickCursor, type CursorActivity, type CursorItem } from '../../contracts/cursor-item';
import { LeaseLostError, type Clock, type Cursor, type CursorStore, type SourceActivityStore } from '../../core/ports';

/**
 * The leases of the local cursor stores, with the DynamoDB store's rules (its conditions are in
 * `lambdas/contracts/cursor-item.ts`): a lease can be taken when it is free, expired strictly
 * before now, or already the taker's; it is held through its expiry time inclusive; a save or a
 * release is the recorded owner's only, whether or not the lease has expired meanwhile, because
 * DynamoDB's conditions look only at the owner. The first acquire of a source is remembered as
 * its `firstSeenAt`.
 */
export class MemoryLeases {
  private readonly leases = new Map<string, { readonly owner: string; readonly expiresAt: number }>();
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly clock: Clock) {}

  /** Takes `sourceId`'s lease for `owner` until `now + leaseMs`; false while another owner holds it. */
  take(sourceId: string, owner: string, leaseMs: number): boolean {
    const now = this.clock.now();
    const lease = this.leases.get(sourceId);
    if (lease !== undefined && lease.owner !== owner && lease.expiresAt >= now) return false;
    this.leases.set(sourceId, { owner, expiresAt: now + leaseMs });
    if (!this.firstSeen.has(sourceId)) this.firstSeen.set(sourceId, now);
    return true;
  }

  /** Throws `LeaseLostError` unless `owner` is the recorded owner of `sourceId`'s lease. */
  checkHeld(sourceId: string, owner: string): void {
    if (this.leases.get(sourceId)?.owner !== owner) throw new LeaseLostError(sourceId, owner);
  }

  /** Gives the lease up if `owner` holds it; someone else's is not ours to give up. */
  give(sourceId: string, owner: string): void {
    if (this.leases.get(sourceId)?.owner === owner) this.leases.delete(sourceId);
  }

  /** The lease and first-seen fields of the source's item. */
  itemFields(sourceId: string): Pick<CursorItem, 'firstSeenAt' | 'leaseOwner' | 'leaseExpiresAt'> {
    const lease = this.leases.get(sourceId);
    const firstSeenAt = this.firstSeen.get(sourceId);
    return {
      ...(firstSeenAt === undefined ? {} : { firstSeenAt }),
      ...(lease === undefined ? {} : { leaseOwner: lease.owner, leaseExpiresAt: lease.expiresAt }),
    };
  }
}

/**
 * Cursors that live only as long as the process: a one-off `pull` without `--state`, the
 * benchmark, and the tests. One item per source with the same lease rules and the same save
 * semantics as the DynamoDB store (a save replaces the cursor; `updatedAt` defaults to now), so
 * that what runs against it behaves as it will against the table (test/support/cursor-store-contract.ts).
 */
export class MemoryCursorStore implements CursorStore, SourceActivityStore {
  private readonly cursors = new Map<string, Cursor>();
  private readonly leases: MemoryLeases;

  constructor(private readonly clock: Clock) {
    this.leases = new MemoryLeases(clock);
  }

  async acquire(sourceId: string, owner: string, leaseMs: number): Promise<{ cursor: Cursor } | undefined> {
    if (!this.leases.take(sourceId, owner, leaseMs)) return undefined;
    return { cursor: { ...this.cursors.get(sourceId) } };
  }

  async save(sourceId: string, owner: string, cursor: Cursor): Promise<void> {
    this.leases.checkHeld(sourceId, owner);
    this.cursors.set(sourceId, { ...pickCursor(cursor), updatedAt: cursor.updatedAt ?? this.clock.now() });
  }

  async release(sourceId: string, owner: string): Promise<void> {
    this.leases.give(sourceId, owner);
  }

  async activity(sourceIds: readonly string[]): Promise<Map<string, CursorActivity>> {
    const found = new Map<string, CursorActivity>();
    for (const sourceId of sourceIds) {
      const item = this.item(sourceId);
      if (item !== undefined) found.set(sourceId, activityOf(item));
    }
    return found;
  }

  /** The stored cursor of a source, as the next acquire would return it. */
  cursorOf(sourceId: string): Cursor | undefined {
    const cursor = this.cursors.get(sourceId);
    return cursor === undefined ? undefined : { ...cursor };
  }

  /** The source's whole item, as the table would hold it; `undefined` before its first acquire. */
  item(sourceId: string): CursorItem | undefined {
    const fields = this.leases.itemFields(sourceId);
    const cursor = this.cursors.get(sourceId);
    if (cursor === undefined && fields.firstSeenAt === undefined) return undefined;
    return { ...cursor, ...fields, sourceId };
  }
}
