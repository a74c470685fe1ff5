import type { JsonText, QuarantinedEvent } from '../ports';

/**
 * The JSON text every quarantine stores for one event, `{sourceId, receivedAt, errors, event}`
 * (an S3 object, an NDJSON line), as UTF-8 bytes: the event's own JSON text is put in as it is,
 * never parsed and serialised again, and its bytes are copied once, so a huge or deep event costs
 * only its bytes here too.
 */
export function quarantineDocument(item: QuarantinedEvent): Buffer {
  const head = JSON.stringify({ sourceId: item.sourceId, receivedAt: new Date(item.receivedAt).toISOString(), errors: item.errors });
  return Buffer.concat([Buffer.from(`${head.slice(0, -1)},"event":`, 'utf8'), jsonTextBytes(item.eventJson), Buffer.from('}', 'utf8')]);
}

/** JSON text as UTF-8 bytes (no copy when it already is). */
export function jsonTextBytes(text: JsonText): Uint8Array {
  return typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
}

/** JSON text as a string. */
export function jsonTextString(text: JsonText): string {
  return typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
}
