/**
 * The README's quick start: `npm start` is the demo, the flags it shows (`npm start -- --for ...
 * --interval ...`) are accepted, and the run ends with the JSON line the README shows, `lost: 0`.
 * The flags' values are shortened so the run takes seconds; the flags themselves come from the README.
 */
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { inlineCode, readDoc, REPO_ROOT } from './markdown';
import { childOutput, type Finished } from '../support/child-output';

/** Short stand-ins for the README's values: a few pulls, one a second. */
const SHORT_VALUES: Readonly<Record<string, string>> = { '--for': '3', '--interval': '1' };

const readme = readDoc('README.md');
const startScript =
  (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.start ?? '';

/** The README's `npm start -- FLAGS` as flag/value pairs. */
function quickStartFlags(): Array<[string, string]> {
  const span = inlineCode(readme).find((code) => code.startsWith('npm start -- '));
  if (span === undefined) throw new Error('README.md shows no `npm start -- ...` example');
  const words = span.slice('npm start -- '.length).split(' ');
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i < words.length; i += 2) pairs.push([words[i] ?? '', words[i + 1] ?? '']);
  return pairs;
}

/** The keys of the README's `{"eventsServed": …, ...}` line, and the values it states (`"lost": 0`). */
function summaryShape(): { keys: string[]; stated: Record<string, number> } {
  const span = inlineCode(readme).find((code) => code.startsWith('{"eventsServed"'));
  if (span === undefined) throw new Error('README.md shows no summary line');
  const entries = [...span.matchAll(/"(\w+)": ([^,}]+)/g)].map((match) => [match[1]!, match[2]!.trim()] as const);
  return {
    keys: entries.map(([key]) => key),
    stated: Object.fromEntries(entries.filter(([, value]) => /^\d+$/.test(value)).map(([key, value]) => [key, Number(value)])),
  };
}

function runStartScript(extraArgs: readonly string[]): Promise<Finished> {
  const [command = '', ...args] = startScript.split(' ');
  return childOutput(
    spawn(command === 'node' ? process.execPath : command, [...args, ...extraArgs], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
}

let run: Promise<Finished>;
beforeAll(() => {
  run = runStartScript(quickStartFlags().flatMap(([flag, value]) => [flag, SHORT_VALUES[flag] ?? value]));
});
afterAll(async () => {
  // The demo's work directory (secrets file, Lambda log, records), whose path it printed.
  const secretsFile = /sources are registered in (\S+)/.exec((await run).stdout)?.[1];
  if (secretsFile !== undefined) rmSync(dirname(secretsFile), { recursive: true, force: true });
});

test('npm start is the demo command of the CLI', () => {
  expect(startScript).toBe('node bin/okta-log-pipeline.js demo');
});

test('the README shows --for and --interval, and the test shortens only their values', () => {
  expect(quickStartFlags().map(([flag]) => flag)).toEqual(Object.keys(SHORT_VALUES));
});

test('npm start with the README flags ends with the README summary line, lost 0', async () => {
  // Act
  const { code, stdout, stderr } = await run;

  // Assess
  expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
  const lines = stdout.trimEnd().split('\n');
  const summary = JSON.parse(lines[lines.length - 1] ?? '') as Record<string, number>;
  const { keys, stated } = summaryShape();
  expect(Object.keys(summary)).toEqual(keys);
  expect(stated).toEqual({ lost: 0 });
  expect(summary).toMatchObject(stated);
  expect(summary.eventsServed).toBeGreaterThan(0);
});
