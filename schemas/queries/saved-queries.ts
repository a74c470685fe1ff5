/**
 * The saved investigation queries: one `.sql` file each in this folder, run as they stand by
 * Athena (the stack creates one named query per file) and by `okta-log-pipeline query --saved`.
 *
 * A file starts with comment lines: a one-line title, `-- When to use: ...`, and `-- Parameters:`
 * followed by one `--   name: description` line per parameter. Each parameter is a `?` placeholder
 * followed by a comment naming it, `? /* from *\/`: positional `?` is what both Athena's execution
 * parameters (https://docs.aws.amazon.com/athena/latest/ug/querying-with-prepared-statements-querying-using-execution-parameters.html)
 * and DuckDB's prepared statements bind, and the comment lets `--param from=...` fill every
 * placeholder of that name. In Athena the console asks for the placeholders in order
 * (`parameterOrder`), each as a SQL literal: '2026-12-01'.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';

export interface SavedQuery {
  /** The file name without `.sql`, e.g. `user-activity`. */
  readonly name: string;
  readonly title: string;
  readonly whenToUse: string;
  /** The declared parameters, in the order of the header. */
  readonly parameters: ReadonlyArray<{ readonly name: string; readonly description: string }>;
  /** The parameter name of each `?` placeholder, in the order they appear in the SQL. */
  readonly parameterOrder: readonly string[];
  /** The whole file: what Athena's named query holds and what DuckDB runs. */
  readonly sql: string;
}

export class SavedQueryError extends Error {
  override readonly name = 'SavedQueryError';
}

export const SAVED_QUERIES_DIR = __dirname;

const PLACEHOLDER = /\?\s*\/\*\s*([a-z][a-z0-9_]*)\s*\*\//g;
const NAME = /^[a-z][a-z0-9-]*$/;

/** Parses one saved query file; throws SavedQueryError naming the file and what is wrong. */
export function parseSavedQuery(file: string, text: string): SavedQuery {
  const name = path.basename(file, '.sql');
  const fail = (problem: string): never => {
    throw new SavedQueryError(`${file}: ${problem}`);
  };
  if (!NAME.test(name)) fail('the file name must be lower-case words joined by "-"');
  const header: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith('--')) break;
    header.push(line.replace(/^--\s?/, ''));
  }
  const title = header[0]?.trim() ?? '';
  if (title === '') fail("the first line must be a comment with the query's title");
  const when = header.find((line) => line.startsWith('When to use:'));
  if (when === undefined) fail('the header needs a "-- When to use: ..." line');
  const parametersAt = header.indexOf('Parameters:');
  const parameters =
    parametersAt < 0
      ? []
      : header.slice(parametersAt + 1).map((line) => {
          const match = /^\s+([a-z][a-z0-9_]*):\s+(\S.*)$/.exec(line);
          return match === null
            ? fail(`parameter line "${line}" must read "--   name: description"`)
            : { name: match[1] as string, description: (match[2] as string).trim() };
        });
  const body = text.split('\n').slice(header.length).join('\n');
  const parameterOrder = [...body.matchAll(PLACEHOLDER)].map((match) => match[1] as string);
  if (body.split('?').length - 1 !== parameterOrder.length)
    fail('every ? placeholder must be followed by a comment naming its parameter, e.g. ? /* from */');
  const declared = new Set(parameters.map((parameter) => parameter.name));
  for (const used of parameterOrder) if (!declared.has(used)) fail(`placeholder ${used} is not declared under "-- Parameters:"`);
  for (const parameter of declared) if (!parameterOrder.includes(parameter)) fail(`parameter ${parameter} is declared but never used`);
  return { name, title, whenToUse: (when as string).slice('When to use:'.length).trim(), parameters, parameterOrder, sql: text };
}

/** Every saved query, by file name order. */
export function loadSavedQueries(directory: string = SAVED_QUERIES_DIR): SavedQuery[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.sql'))
    .sort()
    .map((file) => parseSavedQuery(file, readFileSync(path.join(directory, file), 'utf8')));
}

/**
 * The values of `query`'s placeholders, in order, from `--param name=value` pairs; throws
 * SavedQueryError naming a missing or unknown parameter.
 */
export function bindSavedQuery(query: SavedQuery, values: ReadonlyMap<string, string>): string[] {
  for (const name of values.keys()) {
    if (!query.parameters.some((parameter) => parameter.name === name)) {
      throw new SavedQueryError(`${query.name} has no parameter "${name}" (it takes ${describeParameters(query)})`);
    }
  }
  const missing = query.parameters.filter((parameter) => !values.has(parameter.name));
  if (missing.length > 0) {
    throw new SavedQueryError(
      `${query.name} needs --param ${missing.map((parameter) => `${parameter.name}=...`).join(' --param ')} (${describeParameters(query)})`,
    );
  }
  return query.parameterOrder.map((name) => values.get(name) as string);
}

function describeParameters(query: SavedQuery): string {
  return query.parameters.length === 0
    ? 'no parameters'
    : query.parameters.map((parameter) => `${parameter.name}: ${parameter.description}`).join('; ');
}
