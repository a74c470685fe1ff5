/**
 * The run-wide budget of page bytes in flight: every byte of every Okta response body that the
 * puller holds, from the moment it is read until the page is delivered (or given up), across all
 * the sources of a run. A page that is read ahead (prefetched while the previous page of its
 * source is delivered) is counted the same way, because counting starts at the first byte read
 * and ends only at `release`.
 *
 * Why bytes in flight and not a number of pages: one org's pages can be 1,000 times larger than
 * another's, and only the sum of what is held bounds the memory. The parse of a page is
 * bounded separately (one event at a time, see `pull-source`), so the raw bytes and the records
 * made from them are what grows with a page.
 *
 * No deadlock: a reservation that is alone may always grow (one page up to `maxResponseBytes`
 * must fit, whatever the capacity), and when every open reservation is waiting to grow, the
 * youngest is preempted (`PageBudgetPreemptedError`): it gives its bytes back and its request is
 * sent again later, so the oldest always makes progress.
 *
 * Released is not yet freed: a body is held in many small views over the socket's read buffers,
 * and V8 frees a buffer only when a collection finds its views dead, which under the Lambda's
 * heap flags can leave as many released bytes again as the budget holds (measured in `npm run
 * bench`, section lambda). `reclaim`, when given, is called each time a capacity's worth of bytes
 * has been released, so that what a run holds stays near the budget.
 */

/** A reservation was taken back so that an older one can finish; the request may be sent again. */
export class PageBudgetPreemptedError extends Error {
  override readonly name = 'PageBudgetPreemptedError';
}

/** The bytes one page holds; grows as its body is read, released once the page is delivered. */
export interface PageReservation {
  /** Bytes currently counted for this page. */
  readonly bytes: number;
  /**
   * Counts `bytes` more; waits while the budget is full.
   * @throws PageBudgetPreemptedError when this reservation is chosen to give way, or the signal's reason.
   */
  grow(bytes: number, signal?: AbortSignal): Promise<void>;
  /** Gives every byte back; idempotent. */
  release(): void;
}

interface Waiter {
  readonly reservation: Reservation;
  readonly bytes: number;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

class Reservation implements PageReservation {
  bytes = 0;
  released = false;

  constructor(
    private readonly budget: PageBudget,
    readonly order: number,
  ) {}

  grow(bytes: number, signal?: AbortSignal): Promise<void> {
    return this.budget.grow(this, bytes, signal);
  }

  release(): void {
    this.budget.release(this);
  }
}

export class PageBudget {
  private used = 0;
  private peak = 0;
  private opened = 0;
  private readonly open = new Set<Reservation>();
  private readonly waiters: Waiter[] = [];
  private releasedSinceReclaim = 0;

  /**
   * @param capacity bytes in flight across the run (a lone page may exceed it, see the top).
   * @param reclaim frees what released pages still occupy (a garbage collection), see the top.
   */
  constructor(
    readonly capacity: number,
    private readonly reclaim?: () => void,
  ) {
    if (!(capacity > 0)) throw new RangeError(`page budget capacity must be positive, got ${capacity}`);
  }

  /** Bytes counted right now. */
  get inFlight(): number {
    return this.used;
  }

  /** Most bytes counted at once so far (for tests and the bench). */
  get peakInFlight(): number {
    return this.peak;
  }

  reserve(): PageReservation {
    const reservation = new Reservation(this, this.opened);
    this.opened += 1;
    this.open.add(reservation);
    return reservation;
  }

  /** @internal via PageReservation.grow */
  grow(reservation: Reservation, bytes: number, signal: AbortSignal | undefined): Promise<void> {
    if (reservation.released) return Promise.reject(new PageBudgetPreemptedError('the page reservation was already released'));
    signal?.throwIfAborted();
    if (this.waiters.length === 0 && this.fits(reservation, bytes)) {
      this.count(reservation, bytes);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        this.removeWaiter(waiter);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        reservation,
        bytes,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.settle();
    });
  }

  /** @internal via PageReservation.release */
  release(reservation: Reservation): void {
    if (reservation.released) return;
    reservation.released = true;
    this.open.delete(reservation);
    this.used -= reservation.bytes;
    this.releasedSinceReclaim += reservation.bytes;
    reservation.bytes = 0;
    for (const waiter of this.waiters.filter((candidate) => candidate.reservation === reservation)) {
      this.removeWaiter(waiter);
      waiter.reject(new PageBudgetPreemptedError('the page reservation was released while waiting'));
    }
    if (this.reclaim !== undefined && this.releasedSinceReclaim >= this.capacity) {
      this.releasedSinceReclaim = 0;
      this.reclaim();
    }
    this.settle();
  }

  private fits(reservation: Reservation, bytes: number): boolean {
    return this.used + bytes <= this.capacity || this.used === reservation.bytes;
  }

  private count(reservation: Reservation, bytes: number): void {
    reservation.bytes += bytes;
    this.used += bytes;
    this.peak = Math.max(this.peak, this.used);
  }

  private removeWaiter(waiter: Waiter): void {
    const index = this.waiters.indexOf(waiter);
    if (index !== -1) this.waiters.splice(index, 1);
  }

  /** Grants waiters in order while they fit; preempts the youngest when nobody else can move. */
  private settle(): void {
    for (;;) {
      const first = this.waiters[0];
      if (first === undefined) return;
      if (this.fits(first.reservation, first.bytes)) {
        this.waiters.shift();
        this.count(first.reservation, first.bytes);
        first.resolve();
        continue;
      }
      const waiting = new Set(this.waiters.map((waiter) => waiter.reservation));
      if (waiting.size < this.open.size) return;
      // Every open reservation waits for room that only another one could free: the youngest
      // gives way, so that the oldest can finish.
      let youngest = first.reservation;
      for (const reservation of waiting) if (reservation.order > youngest.order) youngest = reservation;
      this.release(youngest);
      return;
    }
  }
}
