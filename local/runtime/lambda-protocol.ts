/** The messages between a Lambda container (worker thread) and the runtime that invokes it. */

/** Which real handler a container runs. */
export type LambdaKind = 'puller' | 'detections';

export interface InvocationRequest {
  readonly id: number;
  readonly event: unknown;
  /** The fake context's `awsRequestId`: the puller's lease owner. */
  readonly requestId: string;
  /** Drives the fake context's `getRemainingTimeInMillis`. */
  readonly timeoutMs: number;
}

export type InvocationReply =
  | { readonly id: number; readonly ok: true; readonly result: unknown; readonly metricLines: readonly string[] }
  | {
      readonly id: number;
      readonly ok: false;
      readonly errorName: string;
      readonly errorMessage: string;
      readonly metricLines: readonly string[];
    };
