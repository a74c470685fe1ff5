import { parseArgs } from './args';
import { deleteCursorItem } from './cursor-items';
import { SourcesCommandError } from './errors';
import { REMOVE_RECOVERY_WINDOW_DAYS, SourceSecretStore } from './secret-store';
import { DEPLOYMENT_FLAGS, openDeployment } from './settings';
import { sourceIdArgument } from './source-id-argument';

const FLAGS = { values: [...DEPLOYMENT_FLAGS], switches: ['--now', '--delete-cursor'] } as const;

/**
 * `sources remove ID [--now] [--delete-cursor]`: offboards a source by deleting its secret. The
 * puller stops at its next run (ListSecrets no longer shows a secret scheduled for deletion).
 *
 * - The secret gets Secrets Manager's shortest recovery window (7 days) so a mistaken removal can
 *   be undone with `aws secretsmanager restore-secret`; `--now` deletes it without recovery.
 * - The cursor item is kept by default: re-adding the same ID resumes exactly where the puller
 *   stopped, with no gap and no second backfill. `--delete-cursor` deletes it, so a re-add starts
 *   over from `backfillHours` ago; with `--delete-cursor` a cursor whose secret is already gone is
 *   cleaned up too. A run holding the lease at that moment cannot recreate it: its save is
 *   conditional on its lease and fails.
 */
export async function removeSource(args: readonly string[], env: NodeJS.ProcessEnv, out: NodeJS.WritableStream): Promise<void> {
  const parsed = parseArgs(args, FLAGS);
  const sourceId = sourceIdArgument(parsed.positionals, 'remove');
  const deleteCursor = parsed.has('--delete-cursor');
  const deployment = openDeployment(parsed, env);
  try {
    // Resolve the table before deleting anything, so a missing --table fails with nothing done.
    const table = deleteCursor ? deployment.cursorTable() : undefined;
    const store = new SourceSecretStore(deployment.secretsManager, deployment.prefix);
    const name = store.nameOf(sourceId);
    const existing = await store.describe(sourceId);
    const live = existing !== undefined && existing.deletedAt === undefined;
    if (!live && table === undefined) {
      throw new SourcesCommandError(
        existing === undefined
          ? `source ${sourceId}: no secret ${name}; nothing was removed (sources list shows the registered ones)`
          : `source ${sourceId}: secret ${name} was already removed on ${existing.deletedAt?.toISOString() ?? 'an unknown date'} and waits out its recovery window`,
      );
    }
    const lines: string[] = [];
    if (live) {
      const deletionDate = await store.delete(sourceId, parsed.has('--now'));
      lines.push(
        deletionDate === undefined
          ? `removed source ${sourceId}: secret ${name} deleted without recovery`
          : `removed source ${sourceId}: secret ${name} scheduled for deletion on ${deletionDate.toISOString()} ` +
              `(${REMOVE_RECOVERY_WINDOW_DAYS}-day recovery window; undo with: aws secretsmanager restore-secret --secret-id ${name})`,
        '  the puller stops pulling it within minutes (at its next run if Okta refuses the credential)',
      );
    }
    if (table !== undefined) {
      const deleted = await deleteCursorItem(table, sourceId);
      if (!live && !deleted)
        throw new SourcesCommandError(`source ${sourceId}: no secret ${name} and no cursor in table ${table.name}; nothing was removed`);
      lines.push(
        deleted
          ? `  cursor deleted from table ${table.name}: adding ${sourceId} again starts from its backfillHours`
          : `  no cursor in table ${table.name} (never pulled)`,
      );
    } else {
      const readd = parsed.has('--now') ? `adding ${sourceId} again` : 'restoring the secret (or adding it again once deleted)';
      const tableNote = deployment.hasCursorTable ? '' : '; sources remove --delete-cursor --table NAME deletes it';
      lines.push(`  cursor kept: ${readd} resumes where the puller stopped${tableNote}`);
    }
    out.write(`${lines.join('\n')}\n`);
  } finally {
    deployment.close();
  }
}
