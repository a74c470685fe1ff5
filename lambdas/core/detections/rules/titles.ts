/** Title pieces shared by several rules, reproducing Panther's fallbacks so titles compare equal. */
import { field, text, type DetectionRecord } from '../record';

/** A field as Panther's f-strings print it: a missing or null value reads `None`. */
export function orNone(record: DetectionRecord, ...path: string[]): string {
  return text(record, ...path) ?? 'None';
}

/** `Display Name <alternate@id>` of the actor, as every Okta rule's title starts. */
export function actorLabel(record: DetectionRecord): string {
  return `${orNone(record, 'actor', 'displayName')} <${orNone(record, 'actor', 'alternateId')}>`;
}

/**
 * The API key named by an `system.api_token.*` event: `MISSING TARGET` when `target` is present but
 * empty or null, `MISSING DISPLAY NAME` when the key is absent or has no display name.
 */
export function apiKeyName(record: DetectionRecord): string {
  if (!('target' in record)) return 'MISSING DISPLAY NAME';
  const targets = field(record, 'target');
  if (!Array.isArray(targets) || targets.length === 0) return 'MISSING TARGET';
  return text(targets[0], 'displayName') ?? 'MISSING DISPLAY NAME';
}
