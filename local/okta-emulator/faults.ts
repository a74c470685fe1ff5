/**
 * Faults the emulated org can be told to produce on its next `/api/v1/logs` requests, each one a
 * way real orgs (or the network in front of them) have failed other collectors.
 */
export type SimpleFault =
  /** 500 E0000009, Okta's answer when its 30 s query timeout fires. */
  | 'server-error'
  /** 503 with an HTML body, as a load balancer in front of the org answers. */
  | 'unavailable'
  /** 403 E0000006: the token's admin lacks the right to read the System Log. */
  | 'forbidden'
  /** 429 E0000047 with the bucket's real reset, whatever the bucket holds (one of a burst). */
  | 'rate-limit'
  /** A concurrency 429: `X-Rate-Limit-Limit` and `-Remaining` are 0, the reset only an estimate. */
  | 'concurrency-limit'
  /** Headers and half the body, `Content-Length` promising all of it, then the socket is destroyed. */
  | 'truncated-body'
  /** The socket is destroyed before anything is answered. */
  | 'connection-reset'
  /** A normal page whose `next` link points at another origin (https://attacker.example). */
  | 'foreign-next-link'
  /**
   * Okta's refusal of a DPoP proof: 400, empty body, `WWW-Authenticate: DPoP ... error="invalid_dpop_proof",
   * error_description="The DPoP proof JWT has already been used."` (okta/okta-sdk-golang issue 554).
   */
  | 'dpop-proof-rejected';

/** The answer is held back `ms` before it is sent: by a real timer (client timeouts) or by the org's clock. */
export interface SlowFault {
  readonly kind: 'slow';
  readonly ms: number;
  /** `timer` (default): real milliseconds, for a client's request timeout; `clock`: `clock.sleep(ms)`. */
  readonly via?: 'timer' | 'clock';
}

/** A normal page whose `next` link points at `origin` (e.g. another emulated org, to prove nothing reaches it). */
export interface ForeignNextLinkFault {
  readonly kind: 'foreign-next-link';
  readonly origin: string;
}

export type Fault = SimpleFault | SlowFault | ForeignNextLinkFault;

export const DEFAULT_FOREIGN_ORIGIN = 'https://attacker.example';

/** The name a fault is recorded under in `EmulatedOrg.requests`. */
export function faultName(fault: Fault): string {
  return typeof fault === 'string' ? fault : fault.kind;
}

/** Faults waiting for the next requests, oldest first. */
export class FaultQueue {
  private readonly queue: Fault[] = [];

  add(fault: Fault, times: number): void {
    if (!Number.isInteger(times) || times < 1) {
      throw new RangeError(`okta emulator: inject(${faultName(fault)}, times) needs a positive integer, got ${times}`);
    }
    for (let i = 0; i < times; i += 1) {
      this.queue.push(fault);
    }
  }

  /** The fault for the request that just arrived, if any. */
  take(): Fault | undefined {
    return this.queue.shift();
  }

  clear(): void {
    this.queue.length = 0;
  }
}
