import { CommandLineError, parseCommandLine, type FlagSpec, type ParsedArgs } from '../args';
import { SourcesUsageError } from './errors';

export type { FlagSpec, ParsedArgs } from '../args';

/** The shared parser, its problems as the usage errors (exit 2) of `sources`, `pull` and `query`. */
export function parseArgs(args: readonly string[], spec: FlagSpec): ParsedArgs {
  try {
    return parseCommandLine(args, spec);
  } catch (error) {
    if (error instanceof CommandLineError) throw new SourcesUsageError(error.message);
    throw error;
  }
}

/** A whole number given on the command line; its range is checked with the rest of the secret. */
export function integerFlag(args: ParsedArgs, flag: string): number | undefined {
  const text = args.value(flag);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\s*-?\d+\s*$/.test(text) || !Number.isSafeInteger(value))
    throw new SourcesUsageError(`${flag} must be a whole number, got ${JSON.stringify(text)}`);
  return value;
}
