import { SourcesUsageError } from './errors';

/** Which flags a subcommand takes: `values` need an argument, `switches` do not. */
export interface FlagSpec {
  readonly values: readonly string[];
  readonly switches: readonly string[];
  /** Value flags that may be given more than once (`--param a=1 --param b=2`). */
  readonly repeatable?: readonly string[];
}

export interface ParsedArgs {
  readonly positionals: readonly string[];
  value(flag: string): string | undefined;
  /** Every value of a repeatable flag, in order. */
  all(flag: string): readonly string[];
  has(flag: string): boolean;
}

/**
 * `--flag value`, `--flag=value` and `--switch`. An unknown or repeated flag is a usage error
 * rather than ignored: a typo in `--drop-off-minutes` must not silently leave the default.
 */
export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  const values = new Map<string, string>();
  const repeated = new Map<string, string[]>();
  const switches = new Set<string>();
  const positionals: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index] as string;
    if (!arg.startsWith('--')) {
      if (arg.startsWith('-') && arg !== '-') throw new SourcesUsageError(`unknown option "${arg}"`);
      positionals.push(arg);
      continue;
    }
    const equals = arg.indexOf('=');
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    if (spec.switches.includes(flag)) {
      if (equals !== -1) throw new SourcesUsageError(`${flag} takes no value`);
      switches.add(flag);
      continue;
    }
    const repeatable = spec.repeatable?.includes(flag) === true;
    if (!spec.values.includes(flag) && !repeatable) throw new SourcesUsageError(`unknown option "${flag}"`);
    const value = equals === -1 ? args[(index += 1)] : arg.slice(equals + 1);
    if (value === undefined || value === '') throw new SourcesUsageError(`${flag} needs a value`);
    if (repeatable) {
      repeated.set(flag, [...(repeated.get(flag) ?? []), value]);
      continue;
    }
    if (values.has(flag)) throw new SourcesUsageError(`${flag} is given twice`);
    values.set(flag, value);
  }
  return {
    positionals,
    value: (flag) => values.get(flag),
    all: (flag) => repeated.get(flag) ?? [],
    has: (flag) => switches.has(flag),
  };
}

/** A whole number given on the command line; its range is checked with the rest of the secret. */
export function integerFlag(args: ParsedArgs, flag: string): number | undefined {
  const text = args.value(flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value)) throw new SourcesUsageError(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return value;
}
