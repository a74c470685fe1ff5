/** The text of what the detections emit (the message and its port are in `ports.ts`). */
import { createHash } from 'node:crypto';
import type { AlertMessage } from './ports';

/**
 * SNS refuses a message over 256 KiB (262,144 bytes, attributes included: "Amazon SNS message
 * "at most 256 KB in size (262,144 bytes)", https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); 8 KiB is left for
 * the subject and the message attributes.
 */
export const ALERT_MESSAGE_MAX_BYTES = 256 * 1024 - 8 * 1024;

/**
 * Bytes of an alert's `title` and `dedupKey`: both come from event data (a request id, an actor's
 * `alternateId`, an API key's name), which an org can make as long as a record allows.
 */
export const ALERT_FIELD_MAX_BYTES = 1024;

/**
 * `text` as it is when it fits `maxBytes` of UTF-8; otherwise its start and the sha256 of the
 * whole, `maxBytes` in all, so that two long texts that differ anywhere still differ once cut.
 * (With `maxBytes` below the digest's length, the digest alone.)
 */
export function boundedAlertText(text: string, maxBytes: number = ALERT_FIELD_MAX_BYTES): string {
  if (fits(text, maxBytes)) return text;
  const digest = `...sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
  return `${previewOf(text, maxBytes - digest.length)}${digest}`;
}

/**
 * The alert's JSON text, within `maxBytes` whatever its fields hold (for any `maxBytes` of 16 KiB
 * or more). An event may be large (a role granted to thousands of targets is 800 KB and still a
 * valid Kinesis record), and an alert that does not fit would be refused and lost. So, in turn,
 * until it fits:
 * 1. the `context` entries that do not fit are replaced by `{truncated: true, bytes, items?, preview}`,
 *    everything else (status, ids, rule, counts, times, the event uuids) kept as it is;
 * 2. every other string (title, dedup key, ids, times, each uuid) is cut like `boundedAlertText`,
 *    to 1,024 bytes, then 256, then 128;
 * 3. the context becomes `{truncated: true, bytes, entries}` and the event uuids are halved, the
 *    oldest kept (`eventCount` still counts them all).
 */
export function alertMessageText(message: AlertMessage, maxBytes: number = ALERT_MESSAGE_MAX_BYTES): string {
  const whole = JSON.stringify(message);
  if (fits(whole, maxBytes)) return whole;
  const trimmed = trimContext(message, maxBytes);
  if (fits(trimmed.text, maxBytes)) return trimmed.text;
  for (const fieldBytes of [1024, 256, 128]) {
    const text = JSON.stringify({ ...boundedFields(message, fieldBytes), context: trimmed.context });
    if (fits(text, maxBytes)) return text;
  }
  const contextJson = JSON.stringify(message.context) ?? 'null';
  const context = { truncated: true, bytes: Buffer.byteLength(contextJson, 'utf8'), entries: Object.keys(message.context).length };
  const bounded = boundedFields(message, 128);
  let uuids = bounded.eventUuids;
  for (;;) {
    const text = JSON.stringify({ ...bounded, eventUuids: uuids, context });
    if (fits(text, maxBytes) || uuids.length === 0) return text;
    uuids = uuids.slice(0, Math.floor(uuids.length / 2));
  }
}

/** Whether `text` is at most `maxBytes` of UTF-8; a text of more UTF-16 units than that is not, without counting its bytes. */
function fits(text: string, maxBytes: number): boolean {
  return text.length <= maxBytes && Buffer.byteLength(text, 'utf8') <= maxBytes;
}

/**
 * Step 1: an equal share for each `context` entry, less room for the keys and the truncation
 * marks, halved until the message fits or the share is 0; the context it ended with.
 */
function trimContext(message: AlertMessage, maxBytes: number): { text: string; context: Record<string, unknown> } {
  // Each entry's JSON once: an entry may be hundreds of KB, and the share is tried several times.
  const entries = Object.entries(message.context).map(([key, value]) => ({
    key,
    value,
    json: Buffer.from(JSON.stringify(value) ?? 'null', 'utf8'),
  }));
  const bare = JSON.stringify({ ...message, context: {} });
  // Without any context the rest is over already: no share can help, so none is tried.
  let share = fits(bare, maxBytes)
    ? Math.max(0, Math.floor((maxBytes - Buffer.byteLength(bare, 'utf8')) / Math.max(1, entries.length)) - 256)
    : 0;
  for (;;) {
    const context: Record<string, unknown> = {};
    for (const { key, value, json } of entries) {
      if (json.length <= share) context[key] = value;
      else
        context[key] = {
          truncated: true,
          bytes: json.length,
          ...(Array.isArray(value) ? { items: value.length } : {}),
          preview: previewOf(json, share),
        };
    }
    const text = JSON.stringify({ ...message, context });
    if (fits(text, maxBytes) || share === 0) return { text, context };
    share = Math.floor(share / 2);
  }
}

/**
 * Step 2: every string of the message but the context, and each event uuid, cut to `maxBytes`.
 * Whatever type the fields claim, only strings can be long: the rest is numbers and fixed words.
 */
function boundedFields(message: AlertMessage, maxBytes: number): Record<string, unknown> & { eventUuids: string[] } {
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(message)) fields[key] = typeof value === 'string' ? boundedAlertText(value, maxBytes) : value;
  return { ...fields, eventUuids: message.eventUuids.map((uuid) => boundedAlertText(uuid, maxBytes)) };
}

/** At most `bytes` bytes of UTF-8 from the start of `text`, never a broken character. */
function previewOf(text: string | Buffer, bytes: number): string {
  // No more UTF-16 units than bytes are needed (each is at least one byte): a 300 KB text costs no more than its start.
  const start = typeof text === 'string' ? Buffer.from(text.slice(0, Math.max(0, bytes)), 'utf8') : text;
  const cut = start.subarray(0, Math.max(0, bytes)).toString('utf8');
  // A character cut in two decodes as U+FFFD at the end: drop it.
  return cut.endsWith('\ufffd') ? cut.slice(0, -1) : cut;
}
