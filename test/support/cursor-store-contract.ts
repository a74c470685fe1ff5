/**
 * What every `CursorStore` promises (the port in lambdas/core/ports.ts), as one suite run against
 * each implementation: the in-memory store, the file store and the DynamoDB store. The DynamoDB
 * store is the reference; its rules come from its condition expressions (lambdas/contracts/
 * cursor-item.ts), whose meaning DynamoDB documents at
 * https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Expressions.ConditionExpressions.html:
 * a write whose condition is false fails with ConditionalCheckFailedException and changes nothing.
 * So the lease is free when absent or expired strictly before now (`leaseExpiresAt < :now`), and a
 * save or release is allowed to the recorded owner (`leaseOwner = :owner`), expired or not.
 */
import { LeaseLostError, type Cursor, type CursorStore, type SourceActivityStore } from '../../lambdas/core/ports';
import { VirtualClock } from './virtual-clock';

export interface CursorStoreUnderTest {
  readonly store: CursorStore & Partial<SourceActivityStore>;
  /** A second instance over the same storage (for stores whose cursors outlive the instance). */
  readonly reopen?: () => CursorStore;
}

export interface CursorStoreContractOptions {
  /** A fresh, empty store on `clock`. */
  readonly open: (clock: VirtualClock) => Promise<CursorStoreUnderTest>;
  /** The store reads source activity (the puller's `SourceActivityStore`). */
  readonly activity: boolean;
  /**
   * Cursors outlive the instance (`reopen`), and whether leases do too: DynamoDB's do; the file
   * store keeps its leases in its process, so that a crashed run never blocks the next one.
   */
  readonly durable?: { readonly leasesShared: boolean };
}

const LEASE_MS = 60_000;
const FULL_CURSOR: Cursor = {
  nextUrl: 'https://acme.okta.com/api/v1/logs?after=abc&limit=1000',
  newestPublished: '2026-01-01T00:00:00.000Z',
  lastEventAt: 1_767_225_600_123,
  updatedAt: 1_767_225_601_000,
};

/** Registers the contract's `describe` block for one store. */
export function cursorStoreContract(name: string, options: CursorStoreContractOptions): void {
  describe(`CursorStore contract: ${name}`, () => {
    let clock: VirtualClock;
    let subject: CursorStoreUnderTest;
    let store: CursorStore & Partial<SourceActivityStore>;
    beforeEach(async () => {
      clock = new VirtualClock();
      subject = await options.open(clock);
      store = subject.store;
    });

    it('returns an empty cursor for a source it has never seen', async () => {
      expect(await store.acquire('acme', 'run-1', LEASE_MS)).toEqual({ cursor: {} });
    });

    it('returns on the next acquire exactly the cursor saved, and a save replaces the whole cursor', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      await store.save('acme', 'run-1', { ...FULL_CURSOR, lastError: 'source acme: fetching a page failed' });
      await store.save('acme', 'run-1', FULL_CURSOR);
      await store.release('acme', 'run-1');

      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toEqual({ cursor: FULL_CURSOR });
      await store.save('acme', 'run-2', { updatedAt: FULL_CURSOR.updatedAt });
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toEqual({ cursor: { updatedAt: FULL_CURSOR.updatedAt } });
    });

    it('records the last error with the cursor, and the next clean save clears it', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      await store.save('acme', 'run-1', { ...FULL_CURSOR, lastError: 'source acme: delivering records failed: stream throttled' });
      expect((await store.acquire('acme', 'run-1', LEASE_MS))?.cursor.lastError).toBe(
        'source acme: delivering records failed: stream throttled',
      );

      await store.save('acme', 'run-1', FULL_CURSOR);
      expect((await store.acquire('acme', 'run-1', LEASE_MS))?.cursor).toEqual(FULL_CURSOR);
    });

    it('refuses the lease to another owner while it is held, and lets the holder renew it', async () => {
      expect(await store.acquire('acme', 'run-1', LEASE_MS)).toBeDefined();
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toBeUndefined();
      clock.advance(LEASE_MS / 2);
      expect(await store.acquire('acme', 'run-1', LEASE_MS)).toBeDefined();
      clock.advance(LEASE_MS / 2 + 1);
      // Renewed half-way, so still held a whole lease after the first acquire.
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toBeUndefined();
    });

    it('holds the lease through its expiry instant, and gives it to another owner a millisecond later', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      clock.advance(LEASE_MS);
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toBeUndefined();
      clock.advance(1);
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toBeDefined();
    });

    it('frees the lease on release by its owner; a release by anyone else changes nothing', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      await store.release('acme', 'run-2');
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toBeUndefined();

      await store.release('acme', 'run-1');
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toBeDefined();
      // run-1's release came too late to matter now: it must not free run-2's lease.
      await store.release('acme', 'run-1');
      expect(await store.acquire('acme', 'run-3', LEASE_MS)).toBeUndefined();
    });

    it('refuses a save once the lease was taken over, leaving the cursor where the new holder found it', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      await store.save('acme', 'run-1', FULL_CURSOR);
      clock.advance(LEASE_MS + 1);
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toEqual({ cursor: FULL_CURSOR });

      await expect(store.save('acme', 'run-1', { nextUrl: 'https://acme.okta.com/api/v1/logs?after=stale', updatedAt: 1 })).rejects.toThrow(
        LeaseLostError,
      );
      await store.release('acme', 'run-2');
      expect(await store.acquire('acme', 'run-3', LEASE_MS)).toEqual({ cursor: FULL_CURSOR });
    });

    it('refuses a save by an owner that never took the lease, and after the owner released it', async () => {
      await expect(store.save('acme', 'run-1', FULL_CURSOR)).rejects.toThrow(LeaseLostError);
      await store.acquire('acme', 'run-1', LEASE_MS);
      await store.release('acme', 'run-1');
      await expect(store.save('acme', 'run-1', FULL_CURSOR)).rejects.toThrow(LeaseLostError);
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toEqual({ cursor: {} });
    });

    it('lets the recorded owner save after its lease expired as long as nobody took it over (the condition names the owner only)', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      clock.advance(LEASE_MS + 1);
      await store.save('acme', 'run-1', FULL_CURSOR);
      expect(await store.acquire('acme', 'run-2', LEASE_MS)).toEqual({ cursor: FULL_CURSOR });
    });

    it('keeps sources apart: one source’s lease and cursor are not another’s', async () => {
      await store.acquire('acme', 'run-1', LEASE_MS);
      await store.save('acme', 'run-1', FULL_CURSOR);

      expect(await store.acquire('globex', 'run-2', LEASE_MS)).toEqual({ cursor: {} });
      await expect(store.save('globex', 'run-1', FULL_CURSOR)).rejects.toThrow(LeaseLostError);
      await store.release('globex', 'run-1');
      expect(await store.acquire('globex', 'run-3', LEASE_MS)).toBeUndefined();
      await store.save('globex', 'run-2', { nextUrl: 'https://globex.okta.com/api/v1/logs?after=1', updatedAt: 5 });

      await store.release('acme', 'run-1');
      expect(await store.acquire('acme', 'run-4', LEASE_MS)).toEqual({ cursor: FULL_CURSOR });
      await store.release('globex', 'run-2');
      expect(await store.acquire('globex', 'run-4', LEASE_MS)).toEqual({
        cursor: { nextUrl: 'https://globex.okta.com/api/v1/logs?after=1', updatedAt: 5 },
      });
    });

    // Registered only for stores that have the capability: a store without it promises nothing here.
    if (options.activity) {
      it('reads the activity of many sources: the cursor and the first acquire, for sources it knows only', async () => {
        const firstSeenAt = clock.now();
        await store.acquire('acme', 'run-1', LEASE_MS);
        await store.save('acme', 'run-1', FULL_CURSOR);
        clock.advance(LEASE_MS * 2);
        await store.acquire('acme', 'run-2', LEASE_MS);
        await store.acquire('globex', 'run-2', LEASE_MS);

        const read = await activityOf(store)(['acme', 'globex', 'never-seen']);

        expect([...read.keys()].sort()).toEqual(['acme', 'globex']);
        expect(read.get('acme')).toEqual({ ...FULL_CURSOR, firstSeenAt });
        expect(read.get('globex')).toEqual({ firstSeenAt: firstSeenAt + LEASE_MS * 2 });
      });
    }

    const durable = options.durable;
    if (durable !== undefined) {
      it(`keeps cursors beyond the instance; ${durable.leasesShared ? 'and leases' : 'leases stay with the instance'}`, async () => {
        await store.acquire('acme', 'run-1', LEASE_MS);
        await store.save('acme', 'run-1', FULL_CURSOR);

        const other = reopenOf(subject)();
        const taken = await other.acquire('acme', 'run-2', LEASE_MS);

        if (durable.leasesShared) {
          expect(taken).toBeUndefined();
          await store.release('acme', 'run-1');
          expect(await other.acquire('acme', 'run-2', LEASE_MS)).toEqual({ cursor: FULL_CURSOR });
        } else {
          expect(taken).toEqual({ cursor: FULL_CURSOR });
        }
      });
    }
  });
}

function activityOf(store: Partial<SourceActivityStore>): SourceActivityStore['activity'] {
  if (store.activity === undefined) throw new Error('the store was registered with activity: true but has no activity()');
  return store.activity.bind(store);
}

function reopenOf(subject: CursorStoreUnderTest): () => CursorStore {
  if (subject.reopen === undefined) throw new Error('the store was registered as durable but gives no reopen()');
  return subject.reopen;
}
