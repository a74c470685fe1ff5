import { text, type DetectionRecord } from '../record';
import type { Rule } from '../rule';

function account(record: DetectionRecord): string {
  return text(record, 'actor', 'alternateId') ?? '<UNKNOWN_ACCOUNT>';
}

function reason(record: DetectionRecord): string {
  return text(record, 'outcome', 'reason') ?? '<UNKNOWN_REASON>';
}

/**
 * Repeated failed logins to one account (Panther `Okta.BruteForceLogins`). Unlike Panther, which
 * counted each failure reason separately (so an attacker alternating reasons stayed under the
 * threshold), failures count per user across all reasons, and the title names the reasons seen.
 */
export const bruteForceLogins: Rule = {
  id: 'Okta.BruteForceLogins',
  severity: 'MEDIUM',
  threshold: 5,
  dedupPeriodMinutes: 15,
  match: (record) => text(record, 'eventType') === 'user.session.start' && text(record, 'outcome', 'result') === 'FAILURE',
  dedupKey: ({ record }) => account(record),
  collect: reason,
  title: ({ record, collected }) =>
    `Suspected brute force Okta logins to account ${account(record)}, due to [${(collected.length > 0 ? collected : [reason(record)]).join(', ')}]`,
  context: ({ record, collected }) => ({ failureReasons: collected.length > 0 ? collected : [reason(record)] }),
};
