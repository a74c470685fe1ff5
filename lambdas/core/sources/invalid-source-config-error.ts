import { isValidSourceId, quoteSourceId } from './source-id';

/** One thing wrong with a source's secret: the field (dotted path) and what is expected of it. */
export interface SourceConfigIssue {
  /** E.g. `domain`, `oauth.privateKeyPem`, or `secret` for the whole SecretString. */
  readonly field: string;
  /** What is wrong and what is expected; never contains a credential. */
  readonly problem: string;
}

/**
 * A source's secret does not describe a usable source. The message names the source and every
 * wrong field, so one read of the log says what to fix; it never contains a secret value, and
 * no `cause` that could (a JSON parse error quotes the text it failed on).
 */
export class InvalidSourceConfigError extends Error {
  constructor(
    readonly sourceId: string,
    readonly issues: readonly SourceConfigIssue[],
  ) {
    super(
      `source ${isValidSourceId(sourceId) ? sourceId : quoteSourceId(sourceId)}: invalid secret: ${issues.map((issue) => `${issue.field} ${issue.problem}`).join('; ')}`,
    );
    this.name = 'InvalidSourceConfigError';
  }

  /** The fields that are wrong, in the order found. */
  get fields(): string[] {
    return this.issues.map((issue) => issue.field);
  }
}
