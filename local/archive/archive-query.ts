/**
 * SQL over a local archive directory with DuckDB: the table `okta_system_log` (as in Athena) is a
 * view over the directory's gzip NDJSON objects, read with the column types generated from the
 * YAML schema (schemas/generated/archive-tables.json) and the hive partition column `dt` as text,
 * exactly as the Glue table declares it. So the saved queries run unchanged here and in Athena.
 */
import { existsSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { ARCHIVE_PARTITION_KEY as ARCHIVE_PARTITION_COLUMN, ARCHIVE_TABLE } from '../../lambdas/core/archive/layout';

/** A query DuckDB refused or could not run; the message is DuckDB's own. */
export class ArchiveQueryError extends Error {
  override readonly name = 'ArchiveQueryError';
}

/** A JSON value of one result row. */
export type RowValue = string | number | boolean | null | RowValue[] | { [key: string]: RowValue };

const sqlString = (text: string): string => `'${text.replace(/'/g, "''")}'`;
const sqlIdentifier = (text: string): string => `"${text.replace(/"/g, '""')}"`;

/** The DDL of the view (or, for an archive without objects yet, of an empty table with its columns). */
function tableDefinition(directory: string): string {
  const name = ARCHIVE_TABLE.tableName;
  const columns = Object.entries(ARCHIVE_TABLE.localColumns);
  const tableDir = path.join(directory, name);
  const hasObjects = existsSync(tableDir) && readdirSync(tableDir).some((entry) => entry.startsWith(`${ARCHIVE_PARTITION_COLUMN}=`));
  if (!hasObjects) {
    const definitions = [...columns.map(([column, type]) => `${sqlIdentifier(column)} ${type}`), `${ARCHIVE_PARTITION_COLUMN} VARCHAR`];
    return `CREATE TABLE ${name} (${definitions.join(', ')})`;
  }
  const pattern = path.join(tableDir, `${ARCHIVE_PARTITION_COLUMN}=*`, '*.gz');
  const columnStruct = `{${columns.map(([column, type]) => `${sqlString(column)}: ${sqlString(type)}`).join(', ')}}`;
  return (
    `CREATE VIEW ${name} AS SELECT * FROM read_json(${sqlString(pattern)}, format = 'newline_delimited', compression = 'gzip', ` +
    `columns = ${columnStruct}, hive_partitioning = true, hive_types = {${sqlString(ARCHIVE_PARTITION_COLUMN)}: 'VARCHAR'})`
  );
}

/**
 * A row as JSON values. Counts and sums are BIGINT (JavaScript bigint): a number when it is exact
 * as one, else its decimal text; dates and times become ISO strings.
 */
function toJson(value: unknown): RowValue {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(toJson);
  if (typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, toJson(item)]));
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- only a symbol or a function gets here (DuckDB returns neither): String() names both
  return String(value);
}

/** An open archive: run SQL against it, then close. */
export class ArchiveQuery {
  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly connection: DuckDBConnection,
  ) {}

  static async open(directory: string): Promise<ArchiveQuery> {
    // The directory becomes part of a glob pattern, where these characters would match other paths.
    if (/[*?[\]{}]/.test(directory))
      throw new ArchiveQueryError(`archive directory "${directory}" contains a glob character (* ? [ ] { })`);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const query = new ArchiveQuery(instance, connection);
    await query.guard(() => connection.run(tableDefinition(directory)));
    return query;
  }

  /** Runs `sql` with positional `?` values, handing each row to `onRow` as it streams in (bounded memory). */
  async run(sql: string, values: readonly string[], onRow: (row: Record<string, RowValue>) => void): Promise<number> {
    return this.guard(async () => {
      const result = await this.connection.stream(sql, values.length === 0 ? undefined : [...values]);
      let rows = 0;
      for await (const chunk of result.yieldRowObjectJs()) {
        for (const row of chunk) {
          onRow(toJson(row) as Record<string, RowValue>);
          rows += 1;
        }
      }
      return rows;
    });
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }

  private async guard<T>(action: () => Promise<T>): Promise<T> {
    try {
      return await action();
    } catch (error) {
      // DuckDB reports every refusal (syntax, binder, missing file, malformed JSON) as a plain Error.
      if (error instanceof Error && !(error instanceof ArchiveQueryError)) throw new ArchiveQueryError(error.message, { cause: error });
      throw error;
    }
  }
}
