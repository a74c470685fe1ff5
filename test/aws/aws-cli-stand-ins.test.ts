import { execFile, execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/aws/local-credentials';
import { startS3Server, type S3Server } from '../../local/aws/s3-server';
import { startSecretsManagerServer, type SecretsManagerServer } from '../../local/aws/secrets-manager-server';
import { startSnsServer, type SnsServer } from '../../local/runtime/sns-server';
import { VirtualClock } from '../support/virtual-clock';

/**
 * Our S3, Secrets Manager and SNS stand-ins driven by the official AWS CLI v2, a client we did not write
 * (it parses answers with botocore and the service models AWS publishes), for every behaviour the
 * tests and the demo rely on. The real AWS SDK v3 clients check the same behaviours in
 * s3-server.test.ts and secrets-manager-server.test.ts.
 *
 * Runs when an AWS CLI v2 is on PATH; CI (`.ci/run`) installs Debian's `awscli` and, with CI=true,
 * a missing CLI fails the suite instead of passing unnoticed.
 */

const AWS_CLI = findAwsCliV2();
/** Each CLI call starts a Python interpreter: seconds on a loaded machine. */
const CLI_TEST_TIMEOUT_MS = 300_000;

function findAwsCliV2(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, 'aws');
    try {
      accessSync(candidate, constants.X_OK);
    } catch {
      continue;
    }
    // PATH may hold a pip-installed CLI v1 first; the v2 one is what AWS supports for new work.
    try {
      const version = execFileSync(candidate, ['--version'], { encoding: 'utf8', timeout: 120_000 });
      if (version.startsWith('aws-cli/2.')) return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

let home: string;

/** `aws <args>` against loopback with dummy credentials and nothing from the machine's own AWS setup. */
function aws(cli: string, endpoint: string, args: readonly string[]): Promise<CliResult> {
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: home,
    AWS_CONFIG_FILE: path.join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_DEFAULT_REGION: LOCAL_REGION,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
    // `aws s3 ls` prints local time.
    TZ: 'UTC',
  };
  return new Promise((resolve) => {
    execFile(
      cli,
      ['--endpoint-url', endpoint, '--output', 'json', ...args],
      { env, encoding: 'utf8', timeout: 120_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

function json(result: CliResult): Record<string, unknown> {
  if (result.code !== 0) throw new Error(`aws exited ${result.code}: ${result.stderr}`);
  return result.stdout.trim() === '' ? {} : (JSON.parse(result.stdout) as Record<string, unknown>);
}

/** The CLI prints timestamps as ISO 8601 (v2's default `cli_timestamp_format`). */
function time(value: unknown): number {
  return Date.parse(String(value));
}

if (AWS_CLI === undefined) {
  it('has an AWS CLI v2 on PATH wherever it is required: in CI, where .ci/run installs Debian’s awscli', () => {
    if (process.env.CI === 'true') throw new Error('no AWS CLI v2 on PATH: .ci/run installs it with apt-get install -y awscli');
  });
} else {
  const cli = AWS_CLI;
  const DAY = 86_400_000;

  beforeAll(() => {
    home = mkdtempSync(path.join(tmpdir(), 'aws-cli-'));
    // Path-style addressing: a loopback address cannot take bucket subdomains.
    writeFileSync(path.join(home, 'config'), '[default]\ns3 =\n  addressing_style = path\n');
    writeFileSync(path.join(home, 'credentials'), '');
  });
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  describe(`S3 stand-in through the AWS CLI (${cli})`, () => {
    const BUCKET = 'quarantine';
    let clock: VirtualClock;
    let server: S3Server;
    const s3 = (...args: string[]): Promise<CliResult> => aws(cli, server.endpoint, args);

    beforeEach(async () => {
      clock = new VirtualClock(Date.parse('2026-03-04T05:06:07.000Z'));
      server = await startS3Server({ buckets: [BUCKET], clock });
    });
    afterEach(() => server.close());

    it(
      'puts, heads, gets, lists (delimiter, pages, url-encoded keys, LastModified) and deletes objects',
      async () => {
        const file = path.join(home, 'body.json');
        writeFileSync(file, '{"quarantined":true}');
        for (const key of ['acme/2026/01.json', 'acme/2027/01.json', 'acme/with space+plus ü.json', 'top.json']) {
          json(await s3('s3api', 'put-object', '--bucket', BUCKET, '--key', key, '--body', file, '--content-type', 'application/json'));
        }
        const head = json(await s3('s3api', 'head-object', '--bucket', BUCKET, '--key', 'acme/2026/01.json'));
        expect(head).toMatchObject({ ContentLength: 20, ContentType: 'application/json', ETag: expect.stringMatching(/^"[0-9a-f]{32}"$/) });
        expect(time(head.LastModified)).toBe(clock.now());

        const out = path.join(home, 'out.json');
        const got = json(await s3('s3api', 'get-object', '--bucket', BUCKET, '--key', 'acme/2026/01.json', out));
        expect(time(got.LastModified)).toBe(clock.now());
        expect(readFileSync(out, 'utf8')).toBe('{"quarantined":true}');

        // --page-size 1: the CLI follows NextContinuationToken page by page and merges the answers;
        // it asks for encoding-type=url and decodes the keys itself.
        const listed = json(
          await s3('s3api', 'list-objects-v2', '--bucket', BUCKET, '--prefix', 'acme/', '--delimiter', '/', '--page-size', '1'),
        );
        expect((listed.CommonPrefixes as Array<{ Prefix: string }>).map((entry) => entry.Prefix)).toEqual(['acme/2026/', 'acme/2027/']);
        expect(
          (listed.Contents as Array<{ Key: string; LastModified: string; Size: number }>).map((entry) => [
            entry.Key,
            time(entry.LastModified),
            entry.Size,
          ]),
        ).toEqual([['acme/with space+plus ü.json', clock.now(), 20]]);
        const ls = await s3('s3', 'ls', `s3://${BUCKET}/acme/`);
        expect(ls.code).toBe(0);
        expect(ls.stdout).toMatch(/^\s+PRE 2026\/$/m);
        expect(ls.stdout).toMatch(/^2026-03-04 05:06:07\s+20 with space\+plus ü\.json$/m);

        json(await s3('s3api', 'delete-object', '--bucket', BUCKET, '--key', 'top.json'));
        json(await s3('s3api', 'delete-object', '--bucket', BUCKET, '--key', 'never-there.json'));
        const gone = await s3('s3api', 'head-object', '--bucket', BUCKET, '--key', 'top.json');
        expect(gone.code).not.toBe(0);
        expect(gone.stderr).toMatch(/\(404\)/);
        expect([...server.objects(BUCKET).keys()].sort()).toEqual([
          'acme/2026/01.json',
          'acme/2027/01.json',
          'acme/with space+plus ü.json',
        ]);
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      'refuses put-object-tagging with NotImplemented and leaves the object as it was',
      async () => {
        const file = path.join(home, 'original.json');
        writeFileSync(file, 'the original');
        json(await s3('s3api', 'put-object', '--bucket', BUCKET, '--key', 'acme/one.json', '--body', file));

        const tagged = await s3(
          's3api',
          'put-object-tagging',
          '--bucket',
          BUCKET,
          '--key',
          'acme/one.json',
          '--tagging',
          'TagSet=[{Key=k,Value=v}]',
        );

        expect(tagged.code).not.toBe(0);
        expect(tagged.stderr).toMatch(/\(NotImplemented\) when calling the PutObjectTagging operation/);
        expect(server.objects(BUCKET).get('acme/one.json')?.body.toString()).toBe('the original');
      },
      CLI_TEST_TIMEOUT_MS,
    );
  });

  describe(`Secrets Manager stand-in through the AWS CLI (${cli})`, () => {
    const NAME = 'okta-log-pipeline/sources/acme';
    let clock: VirtualClock;
    let server: SecretsManagerServer;
    const sm = (...args: string[]): Promise<CliResult> => aws(cli, server.endpoint, ['secretsmanager', ...args]);

    beforeEach(async () => {
      clock = new VirtualClock(Date.parse('2026-03-04T05:06:07.000Z'));
      server = await startSecretsManagerServer({ clock });
    });
    afterEach(() => server.close());

    it(
      'creates, reads and lists a secret, and refuses recovery windows outside 7-30 days and a force delete with a window',
      async () => {
        const created = json(await sm('create-secret', '--name', NAME, '--secret-string', '{"v":1}'));
        expect(created).toMatchObject({ Name: NAME, ARN: expect.stringContaining(`:secret:${NAME}-`) });
        expect(json(await sm('get-secret-value', '--secret-id', NAME))).toMatchObject({
          SecretString: '{"v":1}',
          VersionStages: ['AWSCURRENT'],
        });
        expect(
          (json(await sm('list-secrets', '--filters', `Key=name,Values=okta-log-pipeline/`)).SecretList as Array<{ Name: string }>).map(
            (entry) => entry.Name,
          ),
        ).toEqual([NAME]);

        for (const args of [
          ['--recovery-window-in-days', '6'],
          ['--recovery-window-in-days', '31'],
          ['--recovery-window-in-days', '7', '--force-delete-without-recovery'],
        ]) {
          const refused = await sm('delete-secret', '--secret-id', NAME, ...args);
          expect(refused.code).not.toBe(0);
          expect(refused.stderr).toMatch(/\(InvalidParameterException\) when calling the DeleteSecret operation/);
        }
        expect(json(await sm('describe-secret', '--secret-id', NAME)).DeletedDate).toBeUndefined();
      },
      CLI_TEST_TIMEOUT_MS,
    );

    it(
      'schedules a deletion (DeletedDate = request, DeletionDate = end of window, kept by a second delete), hides it from list-secrets, refuses its value, and restores it',
      async () => {
        json(await sm('create-secret', '--name', NAME, '--secret-string', '{"v":1}'));
        const requestedAt = clock.now();
        const deleted = json(await sm('delete-secret', '--secret-id', NAME, '--recovery-window-in-days', '7'));
        clock.advance(DAY);
        const again = json(await sm('delete-secret', '--secret-id', NAME, '--recovery-window-in-days', '30'));

        expect(time(deleted.DeletionDate)).toBe(requestedAt + 7 * DAY);
        expect(time(again.DeletionDate)).toBe(requestedAt + 7 * DAY);
        expect(time(json(await sm('describe-secret', '--secret-id', NAME)).DeletedDate)).toBe(requestedAt);
        expect(json(await sm('list-secrets')).SecretList).toEqual([]);
        const planned = json(await sm('list-secrets', '--include-planned-deletion')).SecretList as Array<{
          Name: string;
          DeletedDate: string;
        }>;
        expect(planned.map((entry) => [entry.Name, time(entry.DeletedDate)])).toEqual([[NAME, requestedAt]]);
        const refused = await sm('get-secret-value', '--secret-id', NAME);
        expect(refused.stderr).toMatch(/\(InvalidRequestException\) when calling the GetSecretValue operation[^:]*: .*marked for deletion/);

        expect(json(await sm('restore-secret', '--secret-id', NAME))).toMatchObject({ Name: NAME });
        expect(json(await sm('get-secret-value', '--secret-id', NAME)).SecretString).toBe('{"v":1}');

        json(await sm('delete-secret', '--secret-id', NAME, '--force-delete-without-recovery'));
        const gone = await sm('describe-secret', '--secret-id', NAME);
        expect(gone.stderr).toMatch(/\(ResourceNotFoundException\) when calling the DescribeSecret operation/);
      },
      CLI_TEST_TIMEOUT_MS,
    );
  });

  describe(`SNS stand-in through the AWS CLI (${cli})`, () => {
    const TOPIC = 'arn:aws:sns:us-east-1:123456789012:okta-log-pipeline-alerts';
    let server: SnsServer;
    const sns = (...args: string[]): Promise<CliResult> => aws(cli, server.endpoint, ['sns', ...args]);

    beforeEach(async () => {
      server = await startSnsServer();
    });
    afterEach(() => server.close());

    it(
      'publishes with a subject and string message attributes, and refuses with AuthorizationError when told to',
      async () => {
        const attributes = JSON.stringify({
          ruleId: { DataType: 'String', StringValue: 'Okta.BruteForceLogins' },
          severity: { DataType: 'String', StringValue: 'MEDIUM' },
        });
        const published = json(
          await sns(
            'publish',
            '--topic-arn',
            TOPIC,
            '--subject',
            '[MEDIUM] a subject',
            '--message',
            '{"status":"new"}',
            '--message-attributes',
            attributes,
          ),
        );
        expect(published.MessageId).toEqual(expect.any(String));
        expect(server.published).toEqual([
          {
            topicArn: TOPIC,
            subject: '[MEDIUM] a subject',
            message: '{"status":"new"}',
            attributes: { ruleId: 'Okta.BruteForceLogins', severity: 'MEDIUM' },
          },
        ]);

        server.refuse(1);
        const refused = await sns('publish', '--topic-arn', TOPIC, '--message', 'refused');
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/\(AuthorizationError\) when calling the Publish operation/);
        json(await sns('publish', '--topic-arn', TOPIC, '--message', 'without a subject'));
        expect(server.published.slice(1)).toEqual([{ topicArn: TOPIC, message: 'without a subject', attributes: {} }]);
      },
      CLI_TEST_TIMEOUT_MS,
    );
  });
}
