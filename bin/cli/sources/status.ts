import { systemClock } from '../../../lambdas/core/clock';
import { InvalidSourceConfigError, parseSourceSecret } from '../../../lambdas/core/sources/parse-source-secret';
import { parseArgs } from './args';
import { readCursorItem, scanCursorItems, type CursorItem } from './cursor-items';
import { renderTable } from './describe-source';
import { SourcesCommandError, SourcesUsageError } from './errors';
import { SourceSecretStore } from './secret-store';
import { DEPLOYMENT_FLAGS, listRegisteredSources, openDeployment, type Deployment } from './settings';
import { checkedSourceId } from './source-id-argument';
import { describeDropOff, formatDuration, sourceStatus, type Registration, type SourceStatus } from './source-status';
import { stripControlCharacters } from '../../../lambdas/core/okta/org-text';

const FLAGS = { values: [...DEPLOYMENT_FLAGS], switches: ['--json'] } as const;

/** Longest last error shown in the all-sources table; `status ID` and `--json` show it whole. */
const TABLE_ERROR_WIDTH = 80;

/**
 * `sources status [ID] [--json]`: each source's cursor age, lag, last event, drop-off verdict,
 * last error and lease holder, from the cursor table, next to what its secret says. Without an
 * ID it also shows cursor items whose secret is gone (kept by `remove`).
 */
export async function showStatus(args: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<void> {
  const parsed = parseArgs(args, FLAGS);
  if (parsed.positionals.length > 1)
    throw new SourcesUsageError(`sources status takes at most one source ID, got ${parsed.positionals.length}`);
  const sourceId = parsed.positionals[0] === undefined ? undefined : checkedSourceId(parsed.positionals[0]);
  const deployment = openDeployment(parsed, env);
  try {
    const table = deployment.cursorTable();
    if (sourceId !== undefined) {
      const [registration, item] = await Promise.all([registrationOf(deployment, sourceId), readCursorItem(table, sourceId)]);
      if (registration.kind === 'no-secret' && item === undefined) {
        throw new SourcesCommandError(`source ${sourceId}: no secret ${deployment.prefix}${sourceId} and no cursor in table ${table.name}`);
      }
      const status = sourceStatus(sourceId, registration, item, systemClock.now());
      out.write(parsed.has('--json') ? `${JSON.stringify(status)}\n` : renderDetail(status));
      return;
    }
    const [registrations, items] = await Promise.all([allRegistrations(deployment), scanCursorItems(table)]);
    const itemsById = new Map<string, CursorItem>(items.map((item) => [item.sourceId, item]));
    const ids = [...new Set([...registrations.keys(), ...itemsById.keys()])].sort();
    const now = systemClock.now();
    const statuses = ids.map((id) => sourceStatus(id, registrations.get(id) ?? { kind: 'no-secret' }, itemsById.get(id), now));
    if (parsed.has('--json')) {
      out.write(`${JSON.stringify({ table: table.name, sources: statuses })}\n`);
    } else if (statuses.length === 0) {
      out.write(`no sources under ${deployment.prefix} and no cursors in table ${table.name}\n`);
    } else {
      out.write(renderSummary(statuses));
    }
  } finally {
    deployment.close();
  }
}

async function registrationOf(deployment: Deployment, sourceId: string): Promise<Registration> {
  const secretString = await new SourceSecretStore(deployment.secretsManager, deployment.prefix).read(sourceId);
  if (secretString === undefined) return { kind: 'no-secret' };
  try {
    return { kind: 'registered', config: parseSourceSecret(sourceId, secretString, { allowLoopback: deployment.allowLoopback }) };
  } catch (error) {
    if (error instanceof InvalidSourceConfigError) return { kind: 'invalid', message: error.message };
    throw error;
  }
}

async function allRegistrations(deployment: Deployment): Promise<Map<string, Registration>> {
  const listed = await listRegisteredSources(deployment);
  const registrations = new Map<string, Registration>();
  for (const config of listed.sources) registrations.set(config.id, { kind: 'registered', config });
  for (const problem of listed.problems) registrations.set(problem.sourceId, { kind: 'invalid', message: problem.message });
  return registrations;
}

function renderSummary(statuses: readonly SourceStatus[]): string {
  return renderTable(
    ['ID', 'STATE', 'CURSOR AGE', 'LAG', 'LAST EVENT', 'DROP-OFF', 'LEASE', 'LAST ERROR'],
    statuses.map((status) => [
      status.sourceId,
      status.state,
      status.cursorAgeSeconds === undefined ? '-' : formatDuration(status.cursorAgeSeconds),
      status.lagSeconds === undefined ? '-' : formatDuration(status.lagSeconds),
      status.lastEventAt ?? 'none',
      describeDropOff(status),
      status.lease === undefined ? '-' : status.lease.owner,
      shorten(status.lastError ?? status.problem ?? '-', TABLE_ERROR_WIDTH),
    ]),
  );
}

function renderDetail(status: SourceStatus): string {
  const lines: Array<[string, string]> = [
    ['state', status.state + (status.label === undefined ? '' : ` (${JSON.stringify(status.label)})`)],
    [
      'cursor',
      status.cursorUpdatedAt === undefined
        ? status.pulled
          ? 'taken, not saved yet'
          : 'never pulled'
        : `saved ${status.cursorUpdatedAt} (${formatDuration(status.cursorAgeSeconds ?? 0)} ago)`,
    ],
    [
      'lag',
      status.lagSeconds === undefined ? '-' : `${formatDuration(status.lagSeconds)} (newest published ${status.newestPublished ?? 'none'})`,
    ],
    ['last event', status.lastEventAt === undefined ? 'none received yet' : `received ${status.lastEventAt}`],
    ['drop-off', describeDropOff(status)],
    // Stored by the puller already made safe; a cursor written by an older version may not be.
    ['last error', status.lastError === undefined ? 'none' : stripControlCharacters(status.lastError)],
    ['lease', status.lease === undefined ? 'free' : `held by ${status.lease.owner} until ${status.lease.expiresAt}`],
  ];
  if (status.problem !== undefined) lines.push(['secret', stripControlCharacters(status.problem)]);
  const width = Math.max(...lines.map(([name]) => name.length));
  return `${status.sourceId}\n${lines.map(([name, value]) => `  ${name.padEnd(width)}  ${value}`).join('\n')}\n`;
}

function shorten(text: string, width: number): string {
  const line = stripControlCharacters(text.replace(/\s+/g, ' '));
  return line.length > width ? `${line.slice(0, width - 3)}...` : line;
}
