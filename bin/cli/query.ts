/**
 * `okta-log-pipeline query --archive DIR ("SQL" | --saved NAME [--param key=value ...])`: SQL over
 * a local archive directory with DuckDB, one JSON object per result row on stdout. The table is
 * `okta_system_log`, as in Athena, and the saved queries are the ones the stack installs in Athena.
 * Exit status: 0 the query ran, 1 DuckDB refused or failed it (its message on stderr), 2 usage error.
 */
import { existsSync, statSync } from 'node:fs';
import { ArchiveQuery, ArchiveQueryError } from '../../local/archive/archive-query';
import { terminalSafeJson } from '../../lambdas/core/okta/org-text';
import { SavedQueryError, bindSavedQuery, loadSavedQueries, type SavedQuery } from '../../schemas/queries/saved-queries';
import { parseArgs } from './sources/args';
import { SourcesUsageError } from './sources/errors';

const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

function usage(saved: readonly SavedQuery[]): string {
  return [
    'usage: okta-log-pipeline query --archive DIR "SQL"',
    '       okta-log-pipeline query --archive DIR --saved NAME [--param key=value ...]',
    '  Runs SQL with DuckDB over an archive directory (the layout and gzip NDJSON files Firehose',
    '  writes to S3; `npm start -- --archive DIR` and `pull --archive DIR` write one) and prints one',
    '  JSON object per row. The table is okta_system_log, with the columns of the Glue table.',
    '  --archive DIR         the archive directory',
    '  --saved NAME          run a saved query (schemas/queries/NAME.sql, the same SQL as in Athena)',
    "  --param key=value     a saved query's parameter; times are UTC, e.g. from=2026-12-01T09:00:00",
    'saved queries:',
    ...saved.map(
      (query) =>
        `  ${query.name}${query.parameters.length === 0 ? '' : ` (${query.parameters.map((parameter) => parameter.name).join(', ')})`}: ${query.title}`,
    ),
    'Exit status: 0 the query ran, 1 DuckDB refused or failed it, 2 usage error.',
  ].join('\n');
}

class QueryUsageError extends Error {
  override readonly name = 'QueryUsageError';
}

interface QueryRequest {
  readonly archive: string;
  readonly sql: string;
  readonly values: readonly string[];
}

function readRequest(args: readonly string[], saved: readonly SavedQuery[]): QueryRequest {
  const parsed = parseArgs(args, { values: ['--archive', '--saved'], switches: [], repeatable: ['--param'] });
  const archive = parsed.value('--archive');
  if (archive === undefined) throw new QueryUsageError('--archive DIR is required');
  if (!existsSync(archive) || !statSync(archive).isDirectory()) throw new QueryUsageError(`--archive ${archive} is not a directory`);
  const name = parsed.value('--saved');
  const params = new Map<string, string>();
  for (const pair of parsed.all('--param')) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new QueryUsageError(`--param must be key=value, got "${pair}"`);
    const key = pair.slice(0, equals);
    if (params.has(key)) throw new QueryUsageError(`--param ${key} is given twice`);
    params.set(key, pair.slice(equals + 1));
  }
  if (name === undefined) {
    if (params.size > 0) throw new QueryUsageError('--param applies only to --saved queries');
    if (parsed.positionals.length !== 1) throw new QueryUsageError('give exactly one SQL statement (quoted), or --saved NAME');
    return { archive, sql: parsed.positionals[0] as string, values: [] };
  }
  if (parsed.positionals.length > 0) throw new QueryUsageError('give either SQL or --saved NAME, not both');
  const query = saved.find((candidate) => candidate.name === name);
  if (query === undefined)
    throw new QueryUsageError(`no saved query "${name}" (saved: ${saved.map((candidate) => candidate.name).join(', ')})`);
  try {
    return { archive, sql: query.sql, values: bindSavedQuery(query, params) };
  } catch (error) {
    if (error instanceof SavedQueryError) throw new QueryUsageError(error.message);
    throw error;
  }
}

export default async function query(args: string[]): Promise<number> {
  const saved = loadSavedQueries();
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${usage(saved)}\n`);
    return EXIT.ok;
  }
  let request: QueryRequest;
  try {
    request = readRequest(args, saved);
  } catch (error) {
    if (error instanceof QueryUsageError || error instanceof SourcesUsageError) {
      process.stderr.write(`okta-log-pipeline query: ${error.message}\n${usage(saved)}\n`);
      return EXIT.usage;
    }
    throw error;
  }
  let archive: ArchiveQuery | undefined;
  try {
    archive = await ArchiveQuery.open(request.archive);
    await archive.run(request.sql, request.values, (row) => {
      // JSON.stringify escapes C0 controls, terminalSafeJson the C1 ones and bidi overrides: no value from an event can drive the terminal.
      process.stdout.write(`${terminalSafeJson(JSON.stringify(row))}\n`);
    });
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ArchiveQueryError) {
      process.stderr.write(`okta-log-pipeline query: ${error.message}\n`);
      return EXIT.failed;
    }
    throw error;
  } finally {
    archive?.close();
  }
}
