/**
 * `npm run soak -- --minutes N --seed S [--rate R]`: the command line of the soak runner. Usage
 * errors exit 2 with the usage before anything starts; a real soak is soak.test.ts.
 */
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const TSX = path.join(ROOT, 'node_modules', '.bin', 'tsx');
const USAGE =
  'usage: npm run soak -- --minutes N [--seed S] [--rate R]   (N simulated minutes; R simulated seconds per real second, default 30)';

test.each([
  [['--minutes', '0'], `--minutes must be a whole number from 1 to 1440\n${USAGE}`],
  [['--minutes', '1.5'], `--minutes must be a whole number from 1 to 1440\n${USAGE}`],
  [['--minutes', '1', '--rate', '121'], `--rate must be from 1 to 120\n${USAGE}`],
  [['--minutes', '1', '--bogus', '3'], `${USAGE}\nunexpected --bogus 3`],
  [['--minutes', 'ten'], `${USAGE}\nunexpected --minutes ten`],
  [['--minutes'], `${USAGE}\nunexpected --minutes`],
])('%j exits 2 with the usage', (args, message) => {
  const result = spawnSync(TSX, ['local/soak/run.ts', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });

  expect(result.stderr).toBe(`${message}\n`);
  expect(result.stdout).toBe('');
  expect(result.status).toBe(2);
});
