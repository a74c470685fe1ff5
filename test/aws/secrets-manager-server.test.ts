import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  PutSecretValueCommand,
  RestoreSecretCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/aws/secrets-manager-server';
import { VirtualClock } from '../support/virtual-clock';

describe('Secrets Manager stand-in backed by a file', () => {
  it('serves the file’s secrets, follows edits to it, and writes created secrets back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    const file = path.join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify([{ Name: 'okta-log-pipeline/sources/demo', SecretString: '{"v":1}' }]));
    const server = await startSecretsManagerServer({ file });
    const client = new SecretsManagerClient({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      const names = async (): Promise<string[]> =>
        ((await client.send(new ListSecretsCommand({}))).SecretList ?? []).map((entry) => entry.Name ?? '');
      expect(await names()).toEqual(['okta-log-pipeline/sources/demo']);

      writeFileSync(
        file,
        JSON.stringify([
          { Name: 'okta-log-pipeline/sources/demo', SecretString: '{"v":2}' },
          { Name: 'okta-log-pipeline/sources/new', SecretString: '{}' },
        ]),
      );
      // mtime resolution can be coarse: make sure the change is visible as one.
      const later = new Date(Date.now() + 5_000);
      utimesSync(file, later, later);
      expect(await names()).toEqual(['okta-log-pipeline/sources/demo', 'okta-log-pipeline/sources/new']);
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'okta-log-pipeline/sources/demo' }))).SecretString).toBe('{"v":2}');

      await client.send(new CreateSecretCommand({ Name: 'okta-log-pipeline/sources/added', SecretString: '{"v":3}' }));
      expect(JSON.parse(readFileSync(file, 'utf8'))).toContainEqual({ Name: 'okta-log-pipeline/sources/added', SecretString: '{"v":3}' });
      await expect(
        client.send(new CreateSecretCommand({ Name: 'okta-log-pipeline/sources/added', SecretString: '{}' })),
      ).rejects.toMatchObject({ name: 'ResourceExistsException' });
    } finally {
      client.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

/**
 * The deletion lifecycle as the Secrets Manager API reference documents it (the model the AWS CLI
 * v2 ships, botocore data secretsmanager/2017-10-17; online:
 * https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_DeleteSecret.html,
 * API_RestoreSecret.html, API_ListSecrets.html, API_SecretListEntry.html), driven with the real
 * `@aws-sdk/client-secrets-manager`. aws-cli-stand-ins.test.ts drives the same with the AWS CLI.
 */
describe('Secrets Manager stand-in: deleting and restoring a secret', () => {
  const NAME = 'okta-log-pipeline/sources/acme';
  const DAY = 86_400_000;
  let clock: VirtualClock;
  let server: SecretsManagerServer;
  let client: SecretsManagerClient;

  beforeEach(async () => {
    clock = new VirtualClock(Date.parse('2026-03-04T05:06:07.000Z'));
    server = await startSecretsManagerServer({ clock });
    client = new SecretsManagerClient({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateSecretCommand({ Name: NAME, SecretString: '{"v":1}' }));
  });

  afterEach(async () => {
    client.destroy();
    await server.close();
  });

  const names = async (includePlannedDeletion?: boolean): Promise<string[]> =>
    ((await client.send(new ListSecretsCommand({ IncludePlannedDeletion: includePlannedDeletion }))).SecretList ?? []).map(
      (entry) => entry.Name ?? '',
    );

  it('accepts recovery windows of 7 to 30 days only, and refuses ForceDeleteWithoutRecovery together with one (InvalidParameterException)', async () => {
    for (const days of [0, 6, 31]) {
      await expect(client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: days }))).rejects.toMatchObject({
        name: 'InvalidParameterException',
      });
    }
    await expect(
      client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 7, ForceDeleteWithoutRecovery: true })),
    ).rejects.toMatchObject({
      name: 'InvalidParameterException',
    });
    expect(await names()).toEqual([NAME]);

    expect((await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 30 }))).DeletionDate).toEqual(
      new Date(clock.now() + 30 * DAY),
    );
    await client.send(new RestoreSecretCommand({ SecretId: NAME }));
    expect((await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 7 }))).DeletionDate).toEqual(
      new Date(clock.now() + 7 * DAY),
    );
    await client.send(new RestoreSecretCommand({ SecretId: NAME }));
    // "If you don't use either, then Secrets Manager defaults to a 30 day recovery window."
    expect((await client.send(new DeleteSecretCommand({ SecretId: NAME }))).DeletionDate).toEqual(new Date(clock.now() + 30 * DAY));
  });

  it('dates DeletedDate when the deletion was requested and DeletionDate at the end of the window; a second delete changes neither', async () => {
    const requestedAt = new Date(clock.now());
    const first = await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 7 }));
    clock.advance(DAY);
    const second = await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 30 }));

    expect(first.DeletionDate).toEqual(new Date(requestedAt.getTime() + 7 * DAY));
    expect(second.DeletionDate).toEqual(first.DeletionDate);
    expect((await client.send(new DescribeSecretCommand({ SecretId: NAME }))).DeletedDate).toEqual(requestedAt);
    const listed = (await client.send(new ListSecretsCommand({ IncludePlannedDeletion: true }))).SecretList ?? [];
    expect(listed.map((entry) => [entry.Name, entry.DeletedDate])).toEqual([[NAME, requestedAt]]);
  });

  it('hides a secret in its recovery window from ListSecrets unless IncludePlannedDeletion, refuses its value, and RestoreSecret brings it back', async () => {
    await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 7 }));

    expect(await names()).toEqual([]);
    expect(await names(true)).toEqual([NAME]);
    await expect(client.send(new GetSecretValueCommand({ SecretId: NAME }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('marked for deletion'),
    });
    await expect(client.send(new PutSecretValueCommand({ SecretId: NAME, SecretString: '{}' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
    await expect(client.send(new CreateSecretCommand({ Name: NAME, SecretString: '{}' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: expect.stringContaining('already scheduled for deletion'),
    });

    expect(await client.send(new RestoreSecretCommand({ SecretId: NAME }))).toMatchObject({
      Name: NAME,
      ARN: expect.stringContaining(`:secret:${NAME}-`),
    });
    expect((await client.send(new GetSecretValueCommand({ SecretId: NAME }))).SecretString).toBe('{"v":1}');
    expect((await client.send(new DescribeSecretCommand({ SecretId: NAME }))).DeletedDate).toBeUndefined();
    expect(await names()).toEqual([NAME]);
  });

  it('deletes for good at the end of the window, or at once with ForceDeleteWithoutRecovery, also during a window', async () => {
    await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 7 }));
    clock.advance(7 * DAY);
    await expect(client.send(new RestoreSecretCommand({ SecretId: NAME }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    await client.send(new CreateSecretCommand({ Name: NAME, SecretString: '{"v":2}' }));
    await client.send(new DeleteSecretCommand({ SecretId: NAME, RecoveryWindowInDays: 7 }));
    await client.send(new DeleteSecretCommand({ SecretId: NAME, ForceDeleteWithoutRecovery: true }));
    await expect(client.send(new DescribeSecretCommand({ SecretId: NAME }))).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(await names(true)).toEqual([]);
  });

  it('can serve a stale listing, as ListSecrets may for five minutes, while the other operations see the change', async () => {
    const thaw = server.freezeListing();
    await client.send(new PutSecretValueCommand({ SecretId: NAME, SecretString: '{"v":2}' }));
    await client.send(new CreateSecretCommand({ Name: `${NAME}-2`, SecretString: '{}' }));
    const [stale] = (await client.send(new ListSecretsCommand({}))).SecretList ?? [];
    const current = await client.send(new GetSecretValueCommand({ SecretId: NAME }));

    expect(await names()).toEqual([NAME]);
    expect(Object.keys(stale?.SecretVersionsToStages ?? {})).not.toContain(current.VersionId);
    thaw();
    expect(await names()).toEqual([NAME, `${NAME}-2`]);
  });
});
