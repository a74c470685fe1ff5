/**
 * `local/okta-emulator/main.ts` by hand, as the docs show it: an emulated org with an OAuth service
 * app registered (public key, "Require DPoP" on), then `okta-log-pipeline pull --oauth-file` against
 * it with the matching private key. Both are child processes on the real clock.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = resolve(__dirname, '../..');
const TSX = join(ROOT, 'node_modules/tsx/dist/cli.mjs');

let directory: string;
let emulator: ChildProcess | undefined;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'emulator-main-'));
});
afterEach(async () => {
  if (emulator && emulator.exitCode === null) {
    const exited = new Promise((done) => emulator?.once('exit', done));
    emulator.kill('SIGTERM');
    await exited;
  }
  emulator = undefined;
  rmSync(directory, { recursive: true, force: true });
});

function run(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return new Promise((done) => child.on('close', (code) => done({ code, stderr })));
}

it('registers an OAuth service app with DPoP on, which `pull --oauth-file` then reads with DPoP', async () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyFile = join(directory, 'public.pem');
  const oauthFile = join(directory, 'app.json');
  const out = join(directory, 'out.ndjson');
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  writeFileSync(
    oauthFile,
    JSON.stringify({ clientId: '0oa-by-hand', privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }), dpop: true }),
  );

  emulator = spawn(
    process.execPath,
    [
      TSX,
      'local/okta-emulator/main.ts',
      '--events',
      '40',
      '--oauth-client-id',
      '0oa-by-hand',
      '--oauth-public-key',
      publicKeyFile,
      '--oauth-dpop',
    ],
    {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const first = await createInterface({ input: emulator.stdout! })[Symbol.asyncIterator]().next();
  const started = JSON.parse(String(first.value)) as { origin: string; oauthClientId: string; dpop: boolean; events: number };
  expect(started).toMatchObject({ oauthClientId: '0oa-by-hand', dpop: true, events: 40 });

  const pull = await run([
    join(ROOT, 'bin/okta-log-pipeline.js'),
    'pull',
    '--domain',
    started.origin,
    '--oauth-file',
    oauthFile,
    '--out',
    out,
  ]);

  expect(pull).toMatchObject({ code: 0 });
  expect(
    readFileSync(out, 'utf8')
      .split('\n')
      .filter((row) => row !== ''),
  ).toHaveLength(40);
});
