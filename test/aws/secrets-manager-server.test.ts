import { mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { CreateSecretCommand, GetSecretValueCommand, ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { startSecretsManagerServer } from '../../local/aws/secrets-manager-server';

describe('Secrets Manager stand-in backed by a file', () => {
  it('serves the file’s secrets, follows edits to it, and writes created secrets back', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'secrets-'));
    const file = path.join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify([{ Name: 'okta-log-pipeline/sources/demo', SecretString: '{"v":1}' }]));
    const server = await startSecretsManagerServer({ file });
    const client = new SecretsManagerClient({ endpoint: server.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    try {
      const names = async (): Promise<string[]> => ((await client.send(new ListSecretsCommand({}))).SecretList ?? []).map((entry) => entry.Name ?? '');
      expect(await names()).toEqual(['okta-log-pipeline/sources/demo']);

      writeFileSync(file, JSON.stringify([{ Name: 'okta-log-pipeline/sources/demo', SecretString: '{"v":2}' }, { Name: 'okta-log-pipeline/sources/new', SecretString: '{}' }]));
      // mtime resolution can be coarse: make sure the change is visible as one.
      const later = new Date(Date.now() + 5_000);
      utimesSync(file, later, later);
      expect(await names()).toEqual(['okta-log-pipeline/sources/demo', 'okta-log-pipeline/sources/new']);
      expect((await client.send(new GetSecretValueCommand({ SecretId: 'okta-log-pipeline/sources/demo' }))).SecretString).toBe('{"v":2}');

      await client.send(new CreateSecretCommand({ Name: 'okta-log-pipeline/sources/added', SecretString: '{"v":3}' }));
      expect(JSON.parse(readFileSync(file, 'utf8'))).toContainEqual({ Name: 'okta-log-pipeline/sources/added', SecretString: '{"v":3}' });
      await expect(client.send(new CreateSecretCommand({ Name: 'okta-log-pipeline/sources/added', SecretString: '{}' }))).rejects.toMatchObject({ name: 'ResourceExistsException' });
    } finally {
      client.destroy();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
