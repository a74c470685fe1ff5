import { isValidSourceId, quoteSourceId, SOURCE_ID_PATTERN } from '../../../lambdas/core/sources/source-id';
import { SourcesUsageError } from './errors';

/** The one positional ID of a subcommand, checked against the source id pattern. */
export function sourceIdArgument(positionals: readonly string[], subcommand: string): string {
  if (positionals.length === 0)
    throw new SourcesUsageError(`sources ${subcommand} needs the source ID (e.g. sources ${subcommand} acme-prod)`);
  if (positionals.length > 1) throw new SourcesUsageError(`sources ${subcommand} takes one source ID, got ${positionals.length} arguments`);
  return checkedSourceId(positionals[0] as string);
}

export function checkedSourceId(sourceId: string): string {
  if (!isValidSourceId(sourceId)) {
    throw new SourcesUsageError(
      `source ID ${quoteSourceId(sourceId)} must match ${SOURCE_ID_PATTERN.source}: lower-case letters, digits and '-', starting with a letter or digit, at most 63 characters`,
    );
  }
  return sourceId;
}
