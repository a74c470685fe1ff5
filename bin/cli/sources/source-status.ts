import { computeSourceMetrics } from '../../../lambdas/core/metrics/source-metrics';
import type { SourceConfig } from '../../../lambdas/core/ports';
import { activityOf, type CursorItem } from '../../../lambdas/contracts/cursor-item';

/** What the secret says about a source, if anything. */
export type Registration =
  | { readonly kind: 'registered'; readonly config: SourceConfig }
  | { readonly kind: 'invalid'; readonly message: string }
  | { readonly kind: 'no-secret' };

/** One source's health, as `status` prints it (and `--json` emits it). */
export interface SourceStatus {
  readonly sourceId: string;
  /** `no-secret`: removed (or never added) but its cursor item was kept. */
  readonly state: 'enabled' | 'disabled' | 'invalid' | 'no-secret';
  readonly label?: string;
  /** Why the secret is invalid (names the field, never a value). */
  readonly problem?: string;
  /** The puller has taken this source's lease at least once. */
  readonly pulled: boolean;
  /** ISO time of the last cursor save, and its age. */
  readonly cursorUpdatedAt?: string;
  readonly cursorAgeSeconds?: number;
  /** Newest `published` delivered, and the `LagSeconds` metric the puller would emit now. */
  readonly newestPublished?: string;
  readonly lagSeconds?: number;
  /** When the newest delivered event was received. */
  readonly lastEventAt?: string;
  /** `MinutesSinceLastEvent` and `DropOffBreached` as the puller computes them for the alarm. */
  readonly minutesSinceLastEvent?: number;
  readonly dropOffMinutes?: number;
  readonly dropOffBreached?: boolean;
  readonly lastError?: string;
  /** The run holding the source now; absent when free or expired. */
  readonly lease?: { readonly owner: string; readonly expiresAt: string };
}

const NO_RUN = { pages: 0, delivered: 0, invalid: 0, rateLimitWaits: 0, failed: false, authFailed: false } as const;

/**
 * Combines a source's secret and its cursor item at time `now` (epoch ms). Lag, silence and the
 * drop-off verdict come from `computeSourceMetrics`, the function the puller emits its metrics
 * with, so what `status` says is what the alarm sees. A disabled source has no verdict: the
 * puller emits nothing for it, so its alarm series simply ends.
 */
export function sourceStatus(sourceId: string, registration: Registration, item: CursorItem | undefined, now: number): SourceStatus {
  const config = registration.kind === 'registered' ? registration.config : undefined;
  const state =
    config === undefined ? (registration.kind === 'invalid' ? 'invalid' : 'no-secret') : config.enabled ? 'enabled' : 'disabled';
  const status: { -readonly [K in keyof SourceStatus]: SourceStatus[K] } = {
    sourceId,
    state,
    pulled: item?.firstSeenAt !== undefined || item?.updatedAt !== undefined,
  };
  if (config !== undefined) {
    status.label = config.label;
    status.dropOffMinutes = config.dropOffMinutes;
  }
  if (registration.kind === 'invalid') status.problem = registration.message;
  if (item === undefined) return status;

  if (item.updatedAt !== undefined) {
    status.cursorUpdatedAt = iso(item.updatedAt);
    status.cursorAgeSeconds = Math.max(0, Math.round((now - item.updatedAt) / 1000));
  }
  if (item.newestPublished !== undefined) status.newestPublished = item.newestPublished;
  if (item.lastEventAt !== undefined) status.lastEventAt = iso(item.lastEventAt);
  if (item.lastError !== undefined) status.lastError = item.lastError;
  if (item.leaseOwner !== undefined && item.leaseExpiresAt !== undefined && item.leaseExpiresAt > now) {
    status.lease = { owner: item.leaseOwner, expiresAt: iso(item.leaseExpiresAt) };
  }
  if (config !== undefined && config.enabled && status.pulled) {
    const metrics = computeSourceMetrics(NO_RUN, activityOf(item), config.dropOffMinutes, now);
    status.lagSeconds = metrics.LagSeconds;
    status.minutesSinceLastEvent = metrics.MinutesSinceLastEvent;
    status.dropOffBreached = metrics.DropOffBreached === 1;
  }
  return status;
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}

/** `42s`, `12m 3s`, `3h 5m`, `2d 4h`: short enough for a table column. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86_400)}d ${Math.floor((s % 86_400) / 3600)}h`;
}

/** The drop-off column: the verdict and the interval it was judged against. */
export function describeDropOff(status: SourceStatus): string {
  if (status.dropOffBreached === undefined) return status.state === 'enabled' ? 'not pulled yet' : '-';
  const silence = `silent ${formatDuration((status.minutesSinceLastEvent ?? 0) * 60)} of ${status.dropOffMinutes} min`;
  return status.dropOffBreached ? `BREACHED (${silence})` : `ok (${silence})`;
}
