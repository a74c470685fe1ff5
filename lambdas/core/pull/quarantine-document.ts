import type { QuarantinedEvent } from '../ports';

/**
 * The JSON text every quarantine stores for one event, `{sourceId, receivedAt, errors, event}`
 * (an S3 object, an NDJSON line): the event's own JSON text is put in as it is, never parsed and
 * serialised again, so a huge or deep event costs only its bytes here too.
 */
export function quarantineDocument(item: QuarantinedEvent): string {
  const head = JSON.stringify({ sourceId: item.sourceId, receivedAt: new Date(item.receivedAt).toISOString(), errors: item.errors });
  return `${head.slice(0, -1)},"event":${item.eventJson}}`;
}
