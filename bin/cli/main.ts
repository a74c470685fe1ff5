/** Dispatches `okta-log-pipeline <command>` to the module that implements it. */
import { stripControlCharacters } from '../../lambdas/core/okta/org-text';

type Command = (args: string[]) => Promise<number>;

/* eslint-disable @typescript-eslint/no-require-imports -- lazy: one command's dependencies load, not all seven */
const COMMANDS: Record<string, () => Promise<Command>> = {
  // require, not import(): the bin shim registers tsx for CommonJS only, and import() goes through the ESM loader.
  schema: async () => (require('./schema') as typeof import('./schema')).default,
  validate: async () => (require('./validate') as typeof import('./validate')).default,
  sources: async () => (require('./sources') as typeof import('./sources')).default,
  pull: async () => (require('./pull') as typeof import('./pull')).default,
  detect: async () => (require('./detect') as typeof import('./detect')).default,
  demo: async () => (require('./demo') as typeof import('./demo')).default,
  query: async () => (require('./query') as typeof import('./query')).default,
};
/* eslint-enable @typescript-eslint/no-require-imports */

const USAGE = `usage: okta-log-pipeline <command> [options]
commands: ${Object.keys(COMMANDS).join(', ')}`;

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h') {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  // Own keys only: `constructor` or `toString` would otherwise find Object.prototype's functions.
  const load = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (load === undefined) {
    process.stderr.write(`okta-log-pipeline: unknown command "${stripControlCharacters(name)}"\n${USAGE}\n`);
    return 2;
  }
  return (await load())(rest);
}
