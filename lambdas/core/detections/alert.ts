/** The text of what the detections emit (the message and its port are in `ports.ts`). */
import type { AlertMessage } from './ports';

/**
 * SNS refuses a message over 256 KiB (262,144 bytes, attributes included: "Amazon SNS message
 * "at most 256 KB in size (262,144 bytes)", https://docs.aws.amazon.com/sns/latest/api/API_Publish.html); 8 KiB is left for
 * the subject and the message attributes.
 */
export const ALERT_MESSAGE_MAX_BYTES = 256 * 1024 - 8 * 1024;

/**
 * The alert's JSON text, within `maxBytes`. An event may be large (a role granted to thousands of
 * targets is 800 KB and still a valid Kinesis record), and an alert that does not fit would be
 * refused and lost; so the `context` entries that do not fit are replaced by
 * `{truncated: true, bytes, items?, preview}`, while everything else (status, ids, rule, counts,
 * times, the event uuids) is kept as it is.
 */
export function alertMessageText(message: AlertMessage, maxBytes: number = ALERT_MESSAGE_MAX_BYTES): string {
  const whole = JSON.stringify(message);
  if (Buffer.byteLength(whole, 'utf8') <= maxBytes) return whole;
  const entries = Object.entries(message.context);
  const bare = Buffer.byteLength(JSON.stringify({ ...message, context: {} }), 'utf8');
  // An equal share for each entry, less room for the keys and the truncation marks.
  let share = Math.max(0, Math.floor((maxBytes - bare) / Math.max(1, entries.length)) - 256);
  for (;;) {
    const context: Record<string, unknown> = {};
    for (const [key, value] of entries) {
      const json = JSON.stringify(value) ?? 'null';
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes <= share) context[key] = value;
      else
        context[key] = {
          truncated: true,
          bytes,
          ...(Array.isArray(value) ? { items: value.length } : {}),
          preview: previewOf(json, share),
        };
    }
    const text = JSON.stringify({ ...message, context });
    if (Buffer.byteLength(text, 'utf8') <= maxBytes || share === 0) return text;
    share = Math.floor(share / 2);
  }
}

/** At most `bytes` bytes of UTF-8 from the start of `text`, never a broken character. */
function previewOf(text: string, bytes: number): string {
  const cut = Buffer.from(text, 'utf8').subarray(0, bytes).toString('utf8');
  // A character cut in two decodes as U+FFFD at the end: drop it.
  return cut.endsWith('\ufffd') ? cut.slice(0, -1) : cut;
}
