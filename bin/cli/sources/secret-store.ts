import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { describeAwsError, isSecretMarkedForDeletion, isSecretNotFound } from '../../../lambdas/adapters/aws/errors';
import { SourcesCommandError } from './errors';

/** The tag every source secret carries, so that a console or a `list-secrets --filters Key=tag-key` finds them. */
export const SOURCE_ID_TAG = 'okta-log-pipeline:source-id';

/**
 * Seven days, Secrets Manager's shortest recovery window: a source removed by mistake can be
 * restored with its credential for a week, while a deliberately removed credential does not
 * linger for the default 30.
 */
export const REMOVE_RECOVERY_WINDOW_DAYS = 7;

/** What Secrets Manager says about a source's secret, without its value. */
export interface SecretDescription {
  readonly name: string;
  /**
   * Set when the secret was deleted and waits out its recovery window: when the deletion was
   * requested (`DeletedDate`, "the date and time the deletion of the secret occurred", SecretListEntry
   * in the Secrets Manager API reference), not when the window ends.
   */
  readonly deletedAt?: Date;
}

/**
 * The Secrets Manager calls of the `sources` commands, one secret per source named
 * `<prefix><sourceId>`. Every failure becomes a `SourcesCommandError` naming the secret and the
 * AWS error; AWS error messages never quote a SecretString.
 */
export class SourceSecretStore {
  constructor(
    private readonly client: SecretsManagerClient,
    readonly prefix: string,
  ) {}

  nameOf(sourceId: string): string {
    return `${this.prefix}${sourceId}`;
  }

  /** The secret's metadata, or `undefined` when there is no such secret. */
  async describe(sourceId: string): Promise<SecretDescription | undefined> {
    const name = this.nameOf(sourceId);
    try {
      const answer = await this.client.send(new DescribeSecretCommand({ SecretId: name }));
      return answer.DeletedDate === undefined ? { name } : { name, deletedAt: answer.DeletedDate };
    } catch (error) {
      if (isSecretNotFound(error)) return undefined;
      throw this.failure('cannot look up', name, error);
    }
  }

  /** The SecretString, or `undefined` when the secret does not exist (or is scheduled for deletion). */
  async read(sourceId: string): Promise<string | undefined> {
    const name = this.nameOf(sourceId);
    try {
      const answer = await this.client.send(new GetSecretValueCommand({ SecretId: name }));
      if (answer.SecretString === undefined)
        throw new SourcesCommandError(`source ${sourceId}: secret ${name} holds binary data, not the JSON text of a source`);
      return answer.SecretString;
    } catch (error) {
      if (error instanceof SourcesCommandError) throw error;
      if (isSecretNotFound(error) || isSecretMarkedForDeletion(error)) return undefined;
      throw this.failure('cannot read', name, error);
    }
  }

  async create(sourceId: string, secretString: string, description: string): Promise<void> {
    const name = this.nameOf(sourceId);
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: secretString,
          Description: description,
          Tags: [{ Key: SOURCE_ID_TAG, Value: sourceId }],
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'ResourceExistsException') {
        throw new SourcesCommandError(
          `source ${sourceId}: secret ${name} was created by someone else meanwhile; nothing was changed (use --update to replace it)`,
        );
      }
      throw this.failure('cannot create', name, error);
    }
  }

  async put(sourceId: string, secretString: string): Promise<void> {
    const name = this.nameOf(sourceId);
    try {
      await this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: secretString }));
    } catch (error) {
      throw this.failure('cannot update', name, error);
    }
  }

  /** Deletes the secret: after the recovery window, or at once when `now`. Returns when it will be gone. */
  async delete(sourceId: string, now: boolean): Promise<Date | undefined> {
    const name = this.nameOf(sourceId);
    try {
      const answer = await this.client.send(
        new DeleteSecretCommand(
          now
            ? { SecretId: name, ForceDeleteWithoutRecovery: true }
            : { SecretId: name, RecoveryWindowInDays: REMOVE_RECOVERY_WINDOW_DAYS },
        ),
      );
      return now ? undefined : answer.DeletionDate;
    } catch (error) {
      throw this.failure('cannot delete', name, error);
    }
  }

  private failure(what: string, name: string, error: unknown): SourcesCommandError {
    return new SourcesCommandError(`${what} secret ${name}: ${describeAwsError(error)}`, { cause: error });
  }
}
