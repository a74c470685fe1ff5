import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../lambdas/core/ports';
import { systemClock } from '../../lambdas/core/clock';
import { createStandInServer, listenOnLoopback, readBody, type LoopbackServer } from './listen';

/**
 * One secret as `aws secretsmanager create-secret --cli-input-json` takes it: the format of the
 * demo's secrets file (a JSON array of these), so a file written for the demo works against AWS.
 */
export interface SecretFileEntry {
  readonly Name: string;
  readonly SecretString: string;
  readonly Description?: string;
}

/** A Secrets Manager error the next matching calls answer with, instead of doing the operation. */
export interface SecretsManagerFault {
  /** E.g. `GetSecretValue`. */
  readonly operation: string;
  /** The error shape name, e.g. `InternalServiceError`, `ThrottlingException`. */
  readonly type: string;
  readonly message?: string;
  /** 400 for client errors (default), 500 for InternalServiceError. */
  readonly status?: number;
}

export interface SecretsManagerServerOptions {
  /**
   * Back the store with this JSON file (an array of `SecretFileEntry`): re-read whenever it
   * changes on disk, so editing it onboards or offboards a source while the demo runs, and
   * written back on CreateSecret, PutSecretValue and DeleteSecret. Without it, memory only.
   */
  readonly file?: string;
  readonly clock?: Clock;
  /** Caps ListSecrets pages below the caller's MaxResults, so a test can exercise pagination with a few secrets. */
  readonly listPageLimit?: number;
  readonly region?: string;
}

export interface SecretsManagerServer extends LoopbackServer {
  /** Every call received, in order: operation and SecretId (names only, never values). */
  readonly calls: Array<{ operation: string; secretId?: string }>;
  inject(fault: SecretsManagerFault, times?: number): void;
  /**
   * From now on ListSecrets answers what it would have answered now, until the returned function
   * is called: the listing lagging behind changes, which AWS allows for five minutes.
   */
  freezeListing(): () => void;
}

interface StoredSecret {
  name: string;
  arn: string;
  description?: string;
  secretString: string;
  versionId: string;
  createdDate: number;
  lastChangedDate: number;
  /** Scheduled for deletion: when DeleteSecret was called, and the end of its recovery window. */
  deletion?: { readonly requestedAt: number; readonly deleteAt: number };
}

/** Thrown inside a handler to answer with an AWS error shape. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

/** AWS's own list page ceiling for ListSecrets. */
const MAX_LIST_RESULTS = 100;

/**
 * DeleteSecret's recovery window: "The number of days from 7 to 30 [...] If you don't use either,
 * then Secrets Manager defaults to a 30 day recovery window." (RecoveryWindowInDays,
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html).
 */
const RECOVERY_WINDOW_DAYS = { min: 7, max: 30, default: 30 } as const;

const DAY_SECONDS = 86_400;

/**
 * A loopback Secrets Manager speaking its real wire protocol (awsJson1.1, `x-amz-target:
 * secretsmanager.<Operation>`), so the real `@aws-sdk/client-secrets-manager` and the AWS CLI are
 * exercised: ListSecrets (name-prefix filters, `!` negation, pagination, IncludePlannedDeletion),
 * GetSecretValue, DescribeSecret, CreateSecret, PutSecretValue, DeleteSecret (recovery windows,
 * force delete), RestoreSecret, with AWS's error shapes. No signature checks.
 *
 * The deletion lifecycle follows the Secrets Manager API reference: DeleteSecret answers
 * `DeletionDate`, "the date and time of the delete request plus the number of days in
 * RecoveryWindowInDays"; a listed secret's `DeletedDate` is "the date and time the deletion of the
 * secret occurred" (SecretListEntry); ListSecrets leaves out "secrets that are marked for deletion"
 * unless `IncludePlannedDeletion`; RestoreSecret "cancels the scheduled deletion of a secret by
 * removing the DeletedDate time stamp". A secret in its recovery window refuses its value with
 * `InvalidRequestException` and is purged when the window ends.
 */
export async function startSecretsManagerServer(options: SecretsManagerServerOptions = {}): Promise<SecretsManagerServer> {
  const clock = options.clock ?? systemClock;
  const region = options.region ?? 'us-east-1';
  const secrets = new Map<string, StoredSecret>();
  const calls: Array<{ operation: string; secretId?: string }> = [];
  const faults: Array<{ fault: SecretsManagerFault; remaining: number }> = [];
  let fileMtime = -1;

  const nowSeconds = (): number => clock.now() / 1000;
  const arnFor = (name: string): string => `arn:aws:secretsmanager:${region}:000000000000:secret:${name}-${randomBytes(3).toString('hex')}`;

  function syncFromFile(): void {
    if (options.file === undefined || !existsSync(options.file)) return;
    const mtime = statSync(options.file).mtimeMs;
    if (mtime === fileMtime) return;
    fileMtime = mtime;
    const entries = JSON.parse(readFileSync(options.file, 'utf8')) as SecretFileEntry[];
    const seen = new Set<string>();
    for (const entry of entries) {
      seen.add(entry.Name);
      const existing = secrets.get(entry.Name);
      if (existing === undefined) {
        secrets.set(entry.Name, {
          name: entry.Name,
          arn: arnFor(entry.Name),
          description: entry.Description,
          secretString: entry.SecretString,
          versionId: randomUUID(),
          createdDate: nowSeconds(),
          lastChangedDate: nowSeconds(),
        });
      } else if (existing.secretString !== entry.SecretString) {
        Object.assign(existing, { secretString: entry.SecretString, versionId: randomUUID(), lastChangedDate: nowSeconds() });
      }
    }
    // A secret in its recovery window is not in the file (nothing a demo could read) but can still be restored.
    for (const [name, secret] of [...secrets]) if (!seen.has(name) && secret.deletion === undefined) secrets.delete(name);
  }

  function saveToFile(): void {
    if (options.file === undefined) return;
    const entries: SecretFileEntry[] = [...secrets.values()]
      .filter((secret) => secret.deletion === undefined)
      .map((secret) => ({
        Name: secret.name,
        SecretString: secret.secretString,
        ...(secret.description ? { Description: secret.description } : {}),
      }));
    writeFileSync(options.file, `${JSON.stringify(entries, null, 2)}\n`);
    fileMtime = statSync(options.file).mtimeMs;
  }

  /** Secrets whose recovery window has ended are gone for good. */
  function purgeExpired(): void {
    let purged = false;
    for (const [name, secret] of [...secrets]) {
      if (secret.deletion !== undefined && secret.deletion.deleteAt <= nowSeconds()) {
        secrets.delete(name);
        purged = true;
      }
    }
    if (purged) saveToFile();
  }

  function find(secretId: unknown): StoredSecret {
    if (typeof secretId !== 'string' || secretId === '') throw new ServiceError('InvalidParameterException', 'SecretId is required.');
    const secret = secrets.get(secretId) ?? [...secrets.values()].find((candidate) => candidate.arn === secretId);
    if (secret === undefined) throw new ServiceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  /** The message AWS sends (quoted in external-secrets/external-secrets issue 4560). */
  function live(secret: StoredSecret): StoredSecret {
    if (secret.deletion !== undefined) {
      throw new ServiceError(
        'InvalidRequestException',
        "You can't perform this operation on the secret because it was marked for deletion.",
      );
    }
    return secret;
  }

  function listing(input: Record<string, unknown>): Array<Record<string, unknown>> {
    return [...secrets.values()]
      .filter((secret) => secret.deletion === undefined || input.IncludePlannedDeletion === true)
      .sort((a, b) => a.createdDate - b.createdDate || a.name.localeCompare(b.name))
      .map(describe);
  }

  let frozenListing: Array<Record<string, unknown>> | undefined;

  const operations: Record<string, (input: Record<string, unknown>) => Record<string, unknown>> = {
    ListSecrets(input) {
      const filters = (input.Filters as Array<{ Key: string; Values: string[] }> | undefined) ?? [];
      for (const filter of filters) {
        if (filter.Key !== 'name')
          throw new ServiceError('InvalidParameterException', `This stand-in filters by name only, not ${filter.Key}.`);
      }
      const everything =
        frozenListing === undefined
          ? listing(input)
          : frozenListing.filter((entry) => entry.DeletedDate === undefined || input.IncludePlannedDeletion === true);
      const matches = everything.filter((entry) =>
        filters.every((filter) =>
          filter.Values.some((value) =>
            value.startsWith('!') ? !String(entry.Name).startsWith(value.slice(1)) : String(entry.Name).startsWith(value),
          ),
        ),
      );
      if (input.SortOrder === 'desc') matches.reverse();
      const requested = typeof input.MaxResults === 'number' ? input.MaxResults : MAX_LIST_RESULTS;
      if (requested < 1 || requested > MAX_LIST_RESULTS)
        throw new ServiceError('InvalidParameterException', 'MaxResults must be between 1 and 100.');
      const size = Math.min(requested, options.listPageLimit ?? MAX_LIST_RESULTS);
      const start = typeof input.NextToken === 'string' ? decodeToken(input.NextToken) : 0;
      const page = matches.slice(start, start + size);
      return {
        SecretList: page,
        ...(start + size < matches.length ? { NextToken: encodeToken(start + size) } : {}),
      };
    },
    DescribeSecret(input) {
      return describe(find(input.SecretId));
    },
    GetSecretValue(input) {
      const secret = live(find(input.SecretId));
      if (input.VersionStage !== undefined && input.VersionStage !== 'AWSCURRENT') {
        throw new ServiceError(
          'ResourceNotFoundException',
          "Secrets Manager can't find the specified secret value for staging label: " +
            (typeof input.VersionStage === 'string' ? input.VersionStage : JSON.stringify(input.VersionStage)),
        );
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.secretString,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.lastChangedDate,
      };
    },
    CreateSecret(input) {
      const name = input.Name;
      if (typeof name !== 'string' || name === '') throw new ServiceError('InvalidParameterException', 'Name is required.');
      if (typeof input.SecretString !== 'string')
        throw new ServiceError('InvalidParameterException', 'This stand-in stores SecretString only.');
      if (secrets.get(name)?.deletion !== undefined) {
        // As AWS words it (aws-controllers-k8s/community issue 2969, redpanda-data/console issue 1835).
        throw new ServiceError(
          'InvalidRequestException',
          "You can't create this secret because a secret with this name is already scheduled for deletion.",
        );
      }
      if (secrets.has(name))
        throw new ServiceError('ResourceExistsException', `The operation failed because the secret ${name} already exists.`);
      const secret: StoredSecret = {
        name,
        arn: arnFor(name),
        description: typeof input.Description === 'string' ? input.Description : undefined,
        secretString: input.SecretString,
        versionId: typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID(),
        createdDate: nowSeconds(),
        lastChangedDate: nowSeconds(),
      };
      secrets.set(name, secret);
      saveToFile();
      return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId };
    },
    PutSecretValue(input) {
      const secret = live(find(input.SecretId));
      if (typeof input.SecretString !== 'string')
        throw new ServiceError('InvalidParameterException', 'This stand-in stores SecretString only.');
      Object.assign(secret, {
        secretString: input.SecretString,
        versionId: typeof input.ClientRequestToken === 'string' ? input.ClientRequestToken : randomUUID(),
        lastChangedDate: nowSeconds(),
      });
      saveToFile();
      return { ARN: secret.arn, Name: secret.name, VersionId: secret.versionId, VersionStages: ['AWSCURRENT'] };
    },
    DeleteSecret(input) {
      const window = input.RecoveryWindowInDays;
      const force = input.ForceDeleteWithoutRecovery === true;
      // "You can't use both this parameter and RecoveryWindowInDays in the same call."
      if (force && window !== undefined) {
        throw new ServiceError(
          'InvalidParameterException',
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      }
      if (
        window !== undefined &&
        (typeof window !== 'number' || !Number.isInteger(window) || window < RECOVERY_WINDOW_DAYS.min || window > RECOVERY_WINDOW_DAYS.max)
      ) {
        throw new ServiceError(
          'InvalidParameterException',
          `The RecoveryWindowInDays value must be between ${RECOVERY_WINDOW_DAYS.min} and ${RECOVERY_WINDOW_DAYS.max} days (inclusive).`,
        );
      }
      const secret = find(input.SecretId);
      if (force) {
        // Also for a secret already in its recovery window (getmoto/moto issue 8638: "AWS allow
        // force deletion of a secret that is scheduled for deletion").
        secrets.delete(secret.name);
        saveToFile();
        return { ARN: secret.arn, Name: secret.name, DeletionDate: nowSeconds() };
      }
      // A second DeleteSecret keeps the first one's dates: the window runs from the first request.
      secret.deletion ??= {
        requestedAt: nowSeconds(),
        deleteAt: nowSeconds() + DAY_SECONDS * (typeof window === 'number' ? window : RECOVERY_WINDOW_DAYS.default),
      };
      saveToFile();
      return { ARN: secret.arn, Name: secret.name, DeletionDate: secret.deletion.deleteAt };
    },
    RestoreSecret(input) {
      const secret = find(input.SecretId);
      delete secret.deletion;
      saveToFile();
      return { ARN: secret.arn, Name: secret.name };
    },
  };

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = target.startsWith('secretsmanager.') ? target.slice('secretsmanager.'.length) : '';
    const body = await readBody(request);
    try {
      const input = body.length === 0 ? {} : (JSON.parse(body.toString('utf8')) as Record<string, unknown>);
      calls.push({ operation, ...(typeof input.SecretId === 'string' ? { secretId: input.SecretId } : {}) });
      const run = operations[operation];
      if (run === undefined) throw new ServiceError('UnknownOperationException', `Unknown operation ${target}.`);
      const fault = faults.find((candidate) => candidate.fault.operation === operation && candidate.remaining > 0);
      if (fault !== undefined) {
        fault.remaining -= 1;
        throw new ServiceError(fault.fault.type, fault.fault.message ?? `Injected ${fault.fault.type}.`, fault.fault.status ?? 400);
      }
      syncFromFile();
      purgeExpired();
      send(response, 200, run(input));
    } catch (error) {
      if (error instanceof ServiceError) {
        send(response, error.status, { __type: error.type, message: error.message }, error.type);
      } else if (error instanceof SyntaxError) {
        send(response, 400, { __type: 'SerializationException', message: 'Request body is not JSON.' }, 'SerializationException');
      } else {
        send(
          response,
          500,
          { __type: 'InternalServiceError', message: error instanceof Error ? error.message : String(error) },
          'InternalServiceError',
        );
      }
    }
  }

  syncFromFile();
  const server = createStandInServer(handle);
  const listening = await listenOnLoopback(server);
  return {
    ...listening,
    calls,
    inject(fault, times = 1) {
      faults.push({ fault, remaining: times });
    },
    freezeListing() {
      frozenListing = listing({ IncludePlannedDeletion: true });
      return () => {
        frozenListing = undefined;
      };
    },
  };
}

function describe(secret: StoredSecret): Record<string, unknown> {
  return {
    ARN: secret.arn,
    Name: secret.name,
    ...(secret.description ? { Description: secret.description } : {}),
    CreatedDate: secret.createdDate,
    LastChangedDate: secret.lastChangedDate,
    ...(secret.deletion !== undefined ? { DeletedDate: secret.deletion.requestedAt } : {}),
    SecretVersionsToStages: { [secret.versionId]: ['AWSCURRENT'] },
  };
}

function send(response: ServerResponse, status: number, body: Record<string, unknown>, errorType?: string): void {
  response.statusCode = status;
  response.setHeader('content-type', 'application/x-amz-json-1.1');
  response.setHeader('x-amzn-requestid', randomUUID());
  if (errorType !== undefined) response.setHeader('x-amzn-errortype', errorType);
  response.end(JSON.stringify(body));
}

function encodeToken(offset: number): string {
  return Buffer.from(JSON.stringify({ offset })).toString('base64');
}

function decodeToken(token: string): number {
  try {
    const { offset } = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { offset: unknown };
    if (typeof offset === 'number' && Number.isInteger(offset) && offset >= 0) return offset;
  } catch {
    // Fall through to the same error as a well-formed but foreign token.
  }
  throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
}
