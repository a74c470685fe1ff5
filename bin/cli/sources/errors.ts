/**
 * The two ways a `sources` command fails, each with its exit status: the operator typed something
 * we can reject without touching AWS or Okta (2), or an operation was tried and failed (1).
 * Messages are one line, name the source and the flag or resource, and never carry a credential.
 */

/** Bad flags or values: exit 2. */
export class SourcesUsageError extends Error {
  override readonly name = 'SourcesUsageError';
}

/** The operation was refused or failed (Okta said no, the secret exists, AWS failed): exit 1. */
export class SourcesCommandError extends Error {
  override readonly name = 'SourcesCommandError';
}
