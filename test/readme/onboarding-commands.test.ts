/**
 * The onboarding commands of README.md and docs/ONBOARDING.md, taken from the markdown and played
 * in order against the Okta org emulator, the loopback Secrets Manager and dynalite: each exits 0
 * as the docs imply, and what it did is visible in the stand-ins.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeSecretCommand, GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { parseSourceSecret } from '../../lambdas/core/sources/parse-source-secret';
import { startOktaOrg, type EmulatedOrg } from '../../local/okta-emulator';
import { inlineCode, readDoc, type MarkdownDoc } from './markdown';
import { SECRET_PREFIX, shellLines, startShellSession, type Played, type ShellSession } from './shell-session';

/** Each doc plays a dozen child processes one after the other. */
jest.setTimeout(180_000);

/** The shell blocks of the doc that onboard, inspect or offboard sources, in doc order. */
function onboardingLines(doc: MarkdownDoc): string[] {
  const blocks = doc.blocks.filter(
    // The archive's example questions need a demo's archive: test/archive/demo-archive.test.ts plays them.
    (block) =>
      block.lang === 'sh' &&
      /okta-log-pipeline|OKTA_LOG_PIPELINE_|aws secretsmanager create-secret/.test(block.text) &&
      !block.text.includes('okta-log-pipeline query '),
  );
  // Key files the doc's prose tells the reader to generate (`openssl genpkey ... -out FILE`) come first.
  const keyGeneration = inlineCode(doc).filter((span) => span.startsWith('openssl genpkey '));
  return [...keyGeneration, ...blocks.flatMap((block) => shellLines(block.text))];
}

function secretExampleOf(doc: MarkdownDoc): string | undefined {
  return doc.blocks.find((block) => block.lang === 'json' && block.text.includes('"apiToken"'))?.text;
}

interface DocRun {
  readonly org: EmulatedOrg;
  readonly session: ShellSession;
  readonly played: Played[];
}

async function playDoc(doc: MarkdownDoc): Promise<DocRun> {
  const org = await startOktaOrg({ seed: 11 });
  org.generate(25);
  const session = await startShellSession({ org, secretExample: secretExampleOf(doc) });
  const played: Played[] = [];
  for (const line of onboardingLines(doc)) played.push(await session.play(line));
  return { org, session, played };
}

function failures(played: readonly Played[]): string[] {
  return played.filter((run) => run.code !== 0).map((run) => `${run.line}\n  -> exit ${run.code}: ${run.stderr.trim()}`);
}

function toolRuns(played: readonly Played[]): Played[] {
  return played.filter((run) => /^(npx )?okta-log-pipeline /.test(run.line));
}

function toolLines(played: readonly Played[]): string[] {
  return toolRuns(played).map((run) => run.line.replace(/^npx /, ''));
}

async function secretOf(session: ShellSession, sourceId: string): Promise<{ deleted: boolean; value?: string }> {
  const { DeletedDate } = await session.secrets.send(new DescribeSecretCommand({ SecretId: `${SECRET_PREFIX}${sourceId}` }));
  if (DeletedDate !== undefined) return { deleted: true };
  const { SecretString } = await session.secrets.send(new GetSecretValueCommand({ SecretId: `${SECRET_PREFIX}${sourceId}` }));
  return { deleted: false, value: SecretString };
}

describe('README.md', () => {
  let run: DocRun;
  beforeAll(async () => {
    run = await playDoc(readDoc('README.md'));
  });
  afterAll(async () => {
    await run.session.close();
    await run.org.close();
  });

  it('plays the onboarding sequence sources add, list, status, remove', () => {
    expect(toolLines(run.played).map((line) => line.split(' ').slice(0, 3).join(' '))).toEqual([
      'okta-log-pipeline sources add',
      'okta-log-pipeline sources list',
      'okta-log-pipeline sources status',
      'okta-log-pipeline sources remove',
    ]);
  });

  it('every command exits 0', () => {
    expect(failures(run.played)).toEqual([]);
  });

  it('add tested the token against the org, list and status showed the source, remove scheduled its secret for deletion', () => {
    const id = run.session.registered[0] ?? '';
    const [add, list, status, remove] = toolRuns(run.played);
    expect(add?.stdout).toContain(`added source ${id}`);
    expect(run.org.requests.filter((request) => request.path === '/api/v1/logs' && request.status === 200)).not.toHaveLength(0);
    expect(list?.stdout).toMatch(new RegExp(`^${id}\\s`, 'm'));
    expect(status?.stdout).toContain(id);
    expect(remove?.stdout).toContain(`removed source ${id}: secret ${SECRET_PREFIX}${id} scheduled for deletion`);
  });

  it("the create-secret alternative stores the doc's secret, which the puller accepts", async () => {
    const id = run.session.registered[run.session.registered.length - 1] ?? '';
    const secret = await secretOf(run.session, id);

    const example = JSON.parse(secretExampleOf(readDoc('README.md')) ?? '{}') as { label?: string };

    const config = parseSourceSecret(id, secret.value ?? '', { allowLoopback: true });

    expect(config).toMatchObject({
      domain: run.org.origin,
      label: example.label,
      credential: { kind: 'apiToken', token: run.org.apiToken },
    });
  });

  it('never printed the token', () => {
    expect(run.session.transcript.join('\n')).not.toContain(run.org.apiToken);
  });
});

describe('docs/ONBOARDING.md', () => {
  let run: DocRun;
  beforeAll(async () => {
    run = await playDoc(readDoc('docs/ONBOARDING.md'));
  });
  afterAll(async () => {
    await run.session.close();
    await run.org.close();
  });

  it('plays both ways of sources add, the create-secret alternative, and every inspect and offboard command', () => {
    const commands = toolLines(run.played).map((line) => line.split(' ').slice(1, 3).join(' '));
    expect(commands).toEqual(
      expect.arrayContaining(['sources add', 'sources list', 'sources status', 'sources disable', 'sources enable', 'sources remove']),
    );
    expect(commands.filter((command) => command === 'sources add')).toHaveLength(2);
    expect(run.played.filter((played) => played.line.startsWith('aws secretsmanager create-secret'))).toHaveLength(1);
  });

  it('every command exits 0', () => {
    expect(failures(run.played)).toEqual([]);
  });

  it('the OAuth file made with jq worked: a DPoP-bound token read the log, and shred removed the file', () => {
    expect(
      run.org.requests.some((request) => request.path === '/api/v1/logs' && request.status === 200 && request.authScheme === 'DPoP'),
    ).toBe(true);
    expect(existsSync(join(run.session.dir, 'oauth.json'))).toBe(false);
  });

  it('the hand-written secret the doc shows is a source the tool lists as valid', () => {
    const list = run.played.find((played) => /sources list \[?--json\b/.test(played.line));
    const listed = JSON.parse(list?.stdout ?? '{}') as { sources?: Array<{ id: string }>; invalid?: unknown[] };
    expect(listed.sources?.map((source) => source.id)).toEqual([run.session.registered[run.session.registered.length - 1]]);
    expect(listed.invalid).toEqual([]);
  });

  it('remove --now deleted the secret without a recovery window', async () => {
    const id = run.session.registered[run.session.registered.length - 1] ?? '';
    await expect(secretOf(run.session, id)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('never printed the token or the private key', () => {
    const transcript = run.session.transcript.join('\n');
    expect(transcript).not.toContain(run.org.apiToken);
    expect(transcript).not.toContain('PRIVATE KEY');
  });
});
