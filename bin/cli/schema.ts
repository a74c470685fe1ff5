/**
 * `okta-log-pipeline schema build [--check]`: regenerates the JSON Schemas and precompiled
 * validators under `schemas/generated/` from the YAML log schemas. `--check` writes nothing and
 * exits 1 when the checked-in files are stale (for CI and pre-commit hooks).
 */
import * as path from 'node:path';
import { buildInMemory, compareWithDisk, writeGenerated } from '../../schemas/compiler/build';
import { SchemaCompileError } from '../../schemas/compiler/panther-schema';

const USAGE = `usage: okta-log-pipeline schema build [--check]
  Compiles every YAML log schema under schemas/ into schemas/generated/
  (JSON Schema + ajv standalone validators). --check only reports stale files (exit 1).`;

/** The repository root: this file is bin/cli/schema.ts. */
const ROOT = path.resolve(__dirname, '..', '..');

export default async function schema(args: string[]): Promise<number> {
  const [sub, ...flags] = args;
  // `schema build --help` asks for help too: the README's command table names the command with its subcommand.
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const check = flags.length === 1 && flags[0] === '--check';
  if (sub !== 'build' || (flags.length > 0 && !check)) {
    process.stderr.write(`okta-log-pipeline schema: expected "build [--check]", got "${args.join(' ')}"\n${USAGE}\n`);
    return 2;
  }
  let files: Map<string, string>;
  try {
    files = await buildInMemory(ROOT);
  } catch (error) {
    if (error instanceof SchemaCompileError) {
      process.stderr.write(`okta-log-pipeline schema: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
  if (check) {
    const { changed, extra } = await compareWithDisk(ROOT, files);
    const stale = [...changed, ...extra];
    if (stale.length === 0) {
      process.stdout.write(`schemas/generated is up to date (${files.size} files)\n`);
      return 0;
    }
    process.stderr.write(`okta-log-pipeline schema: stale generated files (run npm run schemas): ${stale.join(', ')}\n`);
    return 1;
  }
  const { changed, extra } = await writeGenerated(ROOT, files);
  for (const file of changed) process.stdout.write(`wrote ${file}\n`);
  for (const file of extra) process.stdout.write(`removed ${file}\n`);
  process.stdout.write(`${files.size} generated files, ${changed.length + extra.length} changed\n`);
  return 0;
}
