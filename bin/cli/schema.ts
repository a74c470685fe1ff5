/**
 * `okta-log-pipeline schema build [--check]`: regenerates the JSON Schemas and precompiled
 * validators under `schemas/generated/` from the YAML log schemas. `--check` writes nothing and
 * exits 1 when the checked-in files are stale (for CI and pre-commit hooks).
 */
import * as path from 'node:path';
import { buildInMemory, compareWithDisk, writeGenerated } from '../../schemas/compiler/build';
import { SchemaCompileError } from '../../schemas/compiler/panther-schema';
import { CommandLineError, parseCommandLine } from './args';

const USAGE = `usage: okta-log-pipeline schema build [--check]
  Compiles every YAML log schema under schemas/ into schemas/generated/
  (JSON Schema + ajv standalone validators). --check only reports stale files (exit 1).`;

/** The repository root: this file is bin/cli/schema.ts. */
const ROOT = path.resolve(__dirname, '..', '..');

export default async function schema(args: string[]): Promise<number> {
  // `schema build --help` asks for help too: the README's command table names the command with its subcommand.
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const parsed = readCommandLine(args);
  if (parsed === undefined) {
    process.stderr.write(`okta-log-pipeline schema: expected "build [--check]", got "${args.join(' ')}"\n${USAGE}\n`);
    return 2;
  }
  const check = parsed.check;
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

/** `build` or `build --check`, once each; undefined for anything else. */
function readCommandLine(args: readonly string[]): { check: boolean } | undefined {
  try {
    const parsed = parseCommandLine(args, { values: [], switches: ['--check'] });
    const check = parsed.has('--check');
    // The subcommand comes first, and a second --check (the parser lets switches repeat) is refused.
    return args[0] === 'build' && parsed.positionals.length === 1 && args.length === (check ? 2 : 1) ? { check } : undefined;
  } catch (error) {
    if (error instanceof CommandLineError) return undefined;
    throw error;
  }
}
