/** Kinesis did not accept every record even after the bounded retries; the cursor must not move. */
export class KinesisWriteError extends Error {
  constructor(
    message: string,
    readonly failedRecords: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'KinesisWriteError';
  }
}

/** An invalid event could not be stored in the quarantine bucket; the cursor must not move. */
export class QuarantineWriteError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'QuarantineWriteError';
  }
}

/** The registry could not list the source secrets at all: a systemic failure of the run. */
export class SourceListingError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SourceListingError';
  }
}

/** The cursor table could not be read or written (not a lost lease: that is `LeaseLostError`). */
export class CursorStoreError extends Error {
  constructor(
    message: string,
    readonly sourceId: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CursorStoreError';
  }
}

/** `name: message` of an AWS SDK error, which never carries a secret value, for our own messages. */
export function describeAwsError(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** Secrets Manager has no secret by that name (never created, or deleted for good). */
export function isSecretNotFound(error: unknown): boolean {
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/**
 * The secret waits out its recovery window: GetSecretValue answers `InvalidRequestException`
 * "You can't perform this operation on the secret because it was marked for deletion." (the
 * message as AWS sends it, quoted in external-secrets/external-secrets issue 4560). The error's
 * documented causes begin with "The secret is scheduled for deletion." but list others too
 * (https://docs.aws.amazon.com/botocore/latest/reference/services/secretsmanager/client/exceptions/InvalidRequestException.html),
 * so the message is the only mark.
 */
export function isSecretMarkedForDeletion(error: unknown): boolean {
  return error instanceof Error && error.name === 'InvalidRequestException' && /marked for deletion/i.test(error.message);
}
