import { field, text, type DetectionRecord } from '../record';
import type { Rule } from '../rule';
import { actorLabel } from './titles';

function privilegeGranted(record: DetectionRecord): string | undefined {
  return text(record, 'debugContext', 'debugData', 'privilegeGranted');
}

/** `displayName <alternateId>` of the first target, with Panther's fallbacks. */
function firstTargetLabel(record: DetectionRecord): string {
  if (!('target' in record)) return 'MISSING DISPLAY NAME <MISSING ALTERNATE ID>';
  const targets = field(record, 'target');
  if (!Array.isArray(targets) || targets.length === 0) return ' <>';
  return `${text(targets[0], 'displayName') ?? 'MISSING DISPLAY NAME'} <${text(targets[0], 'alternateId') ?? 'MISSING ALTERNATE ID'}>`;
}

/** An administrator role was granted to a user (Panther `Okta.AdminRoleAssigned`). */
export const adminRoleAssigned: Rule = {
  id: 'Okta.AdminRoleAssigned',
  // A super administrator can do anything in the org, including turning logging off.
  severity: (record) => (privilegeGranted(record)?.includes('Super administrator') ? 'HIGH' : 'INFO'),
  dedupPeriodMinutes: 15,
  match: (record) =>
    text(record, 'eventType') === 'user.account.privilege.grant' &&
    text(record, 'outcome', 'result') === 'SUCCESS' &&
    /[aA]dministrator/.test(privilegeGranted(record) ?? ''),
  // One request can grant several roles: they belong in one alert.
  dedupKey: ({ record }) => text(record, 'debugContext', 'debugData', 'requestId') ?? '<UNKNOWN_REQUEST_ID>',
  title: ({ record }) =>
    `${actorLabel(record)} granted [${privilegeGranted(record) ?? '<UNKNOWN_PRIVILEGE>'}] privileges to ${firstTargetLabel(record)}`,
  context: ({ record }) => ({ privilegeGranted: privilegeGranted(record) }),
};
