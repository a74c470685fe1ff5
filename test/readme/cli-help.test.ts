/**
 * The README's command-line table is what `okta-log-pipeline --help` offers: every command it
 * lists is listed by the tool, every subcommand by the command's own help, and each `--help`
 * exits 0, run as a user runs them (the package's bin, a child process).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { readDoc, REPO_ROOT, tableRows } from './markdown';

const BIN = join(REPO_ROOT, 'bin', 'okta-log-pipeline.js');
/** A cap for a hung child, not a timing assertion; each child loads tsx and the command's modules. */
const CHILD_TIMEOUT_MS = 60_000;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { cwd: REPO_ROOT, timeout: CHILD_TIMEOUT_MS }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

interface DocumentedCommand {
  readonly command: string;
  /** Subcommands the row names (`sources add|list|status|remove`, `schema build`); empty when none. */
  readonly subcommands: readonly string[];
}

/** `pull --domain URL ...` → pull; `sources add|list|status|remove …` → sources with four subcommands. */
function documentedCommands(): DocumentedCommand[] {
  return tableRows(readDoc('README.md'), 'command').map(([cell = '']) => {
    const [command = '', second = ''] = cell.replace(/`/g, '').split(/\s+/);
    const isSubcommand = /^[a-z][a-z|]*$/.test(second);
    return { command, subcommands: isSubcommand ? second.split('|') : [] };
  });
}

const commands = documentedCommands();

test('the README table names the commands (the extractor is not blind)', () => {
  expect(commands.map((entry) => entry.command)).toEqual(
    expect.arrayContaining(['demo', 'pull', 'validate', 'detect', 'sources', 'schema']),
  );
  expect(commands.find((entry) => entry.command === 'sources')?.subcommands).toEqual(['add', 'list', 'status', 'remove']);
});

test('okta-log-pipeline --help lists every command of the README table and exits 0', async () => {
  const { code, stdout } = await run(['--help']);

  expect(code).toBe(0);
  const listed = /^commands: (.+)$/m.exec(stdout)?.[1]?.split(/,\s*/) ?? [];
  expect(commands.map((entry) => entry.command).filter((command) => !listed.includes(command))).toEqual([]);
});

// One row per `--help`: the command's, then each subcommand's.
const helpInvocations = commands.flatMap(({ command, subcommands }) => [[command], ...subcommands.map((sub) => [command, sub])]);

test.each(helpInvocations.map((words) => [words.join(' '), words] as const))(
  'okta-log-pipeline %s --help exits 0 with its usage',
  async (_name, words) => {
    const { code, stdout, stderr } = await run([...words, '--help']);

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toMatch(new RegExp(`^usage: okta-log-pipeline ${words[0]!}\\b`));
    // A subcommand the README names is described by the help the user gets.
    for (const sub of words.slice(1)) expect(stdout).toMatch(new RegExp(`\\b${sub}\\b`));
  },
);
