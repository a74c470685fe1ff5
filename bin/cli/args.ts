/**
 * The one command-line parser of every command (`okta-log-pipeline ...`, `npm run soak`), on
 * node:util `parseArgs`: `--flag value`, `--flag=value` and `--switch`. Each command lists its
 * flags; what goes wrong is a `CommandLineProblem` that each command words as it always has.
 */
import { parseArgs as parseNodeArgs } from 'node:util';

/** Which flags a command takes: `values` need an argument, `switches` do not. */
export interface FlagSpec {
  readonly values: readonly string[];
  readonly switches?: readonly string[];
  /** Value flags that may be given more than once (`--param a=1 --param b=2`). */
  readonly repeatable?: readonly string[];
  /**
   * A value flag given twice: `refuse` (default: a typo must not silently override) or `last`
   * (the last one counts).
   */
  readonly repeated?: 'refuse' | 'last';
  /** Whether `--flag=` (an empty value) is a value; by default it is refused as missing. */
  readonly allowEmptyValue?: boolean;
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  value(flag: string): string | undefined;
  /** Every value of a repeatable flag, in order. */
  all(flag: string): readonly string[];
  has(flag: string): boolean;
}

/** What is wrong with a command line; `index` is the position in `args` of the argument at fault. */
export type CommandLineProblem =
  | { readonly kind: 'unknown-option'; readonly index: number; readonly option: string }
  | { readonly kind: 'missing-value'; readonly index: number; readonly flag: string }
  | { readonly kind: 'given-twice'; readonly index: number; readonly flag: string }
  | { readonly kind: 'switch-with-value'; readonly index: number; readonly flag: string };

/** A command line the spec does not allow; the message is the wording most commands use. */
export class CommandLineError extends Error {
  override readonly name = 'CommandLineError';

  constructor(readonly problem: CommandLineProblem) {
    super(describeProblem(problem));
  }
}

function describeProblem(problem: CommandLineProblem): string {
  switch (problem.kind) {
    case 'unknown-option':
      return `unknown option "${problem.option}"`;
    case 'missing-value':
      return `${problem.flag} needs a value`;
    case 'given-twice':
      return `${problem.flag} is given twice`;
    case 'switch-with-value':
      return `${problem.flag} takes no value`;
  }
}

/**
 * Parses `args` against `spec`. An unknown or repeated flag is an error rather than ignored: a
 * typo in `--drop-off-minutes` must not silently leave the default. `-` is a positional (stdin);
 * `--` is not special, so it is an unknown option like any other.
 *
 * @throws CommandLineError
 */
export function parseCommandLine(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const switches = spec.switches ?? [];
  const repeatable = spec.repeatable ?? [];
  const options: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const flag of [...spec.values, ...repeatable]) options[flag.slice(2)] = { type: 'string' };
  for (const flag of switches) options[flag.slice(2)] = { type: 'boolean' };
  // Not strict: the tokens are checked here, so that every command keeps its own wording.
  const { tokens } = parseNodeArgs({ args: [...args], options, strict: false, allowPositionals: true, tokens: true });

  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const given = new Set<string>();
  const positionals: string[] = [];
  for (const token of tokens) {
    if (token.kind === 'positional') {
      positionals.push(token.value);
      continue;
    }
    if (token.kind === 'option-terminator') throw new CommandLineError({ kind: 'unknown-option', index: token.index, option: '--' });
    const arg = args[token.index] as string;
    // A short option (`-v`, `-vx`) is quoted whole; a long one without its `=value`.
    const flag = token.rawName.startsWith('--') ? token.rawName : arg;
    if (!token.rawName.startsWith('--') || !Object.hasOwn(options, token.name)) {
      throw new CommandLineError({ kind: 'unknown-option', index: token.index, option: flag });
    }
    if (switches.includes(flag)) {
      if (token.inlineValue === true) throw new CommandLineError({ kind: 'switch-with-value', index: token.index, flag });
      given.add(flag);
      continue;
    }
    const value = token.value;
    if (value === undefined || (value === '' && spec.allowEmptyValue !== true))
      throw new CommandLineError({ kind: 'missing-value', index: token.index, flag });
    if (repeatable.includes(flag)) {
      repeated.set(flag, [...(repeated.get(flag) ?? []), value]);
      continue;
    }
    if (values.has(flag) && spec.repeated !== 'last') throw new CommandLineError({ kind: 'given-twice', index: token.index, flag });
    values.set(flag, value);
  }
  return {
    positionals,
    value: (flag) => values.get(flag),
    all: (flag) => repeated.get(flag) ?? [],
    has: (flag) => given.has(flag),
  };
}
