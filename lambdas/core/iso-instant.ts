/** A date-time with its offset: seconds and fraction optional; `Z`, `+hh:mm` or `+hhmm`. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})$/;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Epoch ms of an ISO 8601 instant as the System Log API's `since` and `until` take it, or
 * `undefined`. A time must carry its offset: without one JavaScript reads it as local time, Okta
 * as UTC. With `allowDate`, a bare date (`2026-01-01`) is also accepted, as UTC midnight.
 */
export function parseIsoInstant(text: string, options: { readonly allowDate?: boolean } = {}): number | undefined {
  if (!DATE_TIME.test(text) && !(options.allowDate === true && DATE.test(text))) return undefined;
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : ms;
}
