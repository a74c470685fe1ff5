import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { childOutput, type Finished } from '../support/child-output';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'bin', 'okta-log-pipeline.js');
const EVENTS = path.join(ROOT, 'test', 'fixtures', 'okta-events.ndjson');

function run(args: string[], stdin = ''): Promise<Finished> {
  const child = spawn(process.execPath, [BIN, 'validate', ...args], { cwd: ROOT });
  const output = childOutput(child);
  child.stdin.end(stdin);
  return output;
}

function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('okta-log-pipeline validate', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'validate-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the record of every corpus event and exits 0', async () => {
    const result = await run([EVENTS]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe('55 valid, 0 invalid\n');
    const records = jsonLines(result.stdout);
    expect(records).toHaveLength(55);
    const events = jsonLines(readFileSync(EVENTS, 'utf8'));
    expect(records.map((record) => record.uuid)).toEqual(events.map((event) => event.uuid));
    for (const record of records) {
      expect(record).toMatchObject({ p_log_type: 'Okta.SystemLog', p_source_id: 'local' });
      expect(typeof record.p_row_id).toBe('string');
    }
  });

  it("writes a record as the line's own text plus the p_* fields, and re-serialises one with a duplicate key", async () => {
    const [line] = readFileSync(EVENTS, 'utf8').split('\n') as [string];
    // A first `eventType` that JSON.parse drops: a reader keeping the first would see another event.
    const duplicate = line.replace('{', '{"eventType": "user.session.start", ');
    const result = await run([], `${line}\n${duplicate}\n`);

    expect(result.code).toBe(0);
    const [own, reserialised] = result.stdout.split('\n') as [string, string];
    expect(own.startsWith(line.slice(0, -1))).toBe(true);
    expect(JSON.parse(own)).toMatchObject(JSON.parse(line) as Record<string, unknown>);
    expect(reserialised).not.toContain('user.session.start');
    expect(JSON.parse(reserialised)).toMatchObject(JSON.parse(duplicate) as Record<string, unknown>);
  });

  it('splits valid and invalid lines from stdin, skips blank lines, and exits 3', async () => {
    const [valid] = readFileSync(EVENTS, 'utf8').split('\n');
    const invalid = JSON.stringify({ uuid: 'u1', published: 'redacted', eventType: 'x', version: '0', severity: 'INFO' });
    const out = path.join(dir, 'records.ndjson');
    const quarantine = path.join(dir, 'quarantine.ndjson');

    const result = await run(
      ['-', '--out', out, '--quarantine', quarantine, '--source-id', 'acme'],
      `${valid}\r\n\n   \n${invalid}\n{not json\n${valid}`,
    );

    expect(result.code).toBe(3);
    expect(result.stderr).toBe('2 valid, 2 invalid\n');
    expect(result.stdout).toBe('');
    expect(jsonLines(readFileSync(out, 'utf8')).map((record) => record.p_source_id)).toEqual(['acme', 'acme']);
    const rejected = jsonLines(readFileSync(quarantine, 'utf8'));
    expect(rejected[0]).toEqual({
      event: JSON.parse(invalid) as unknown,
      errors: ['published: must be an RFC 3339 timestamp such as 2024-05-01T12:34:56.789Z, got string "redacted"'],
    });
    expect(rejected[1]?.event).toBe('{not json');
    expect(rejected[1]?.errors).toEqual(['the event is not valid JSON; kept as its raw text, not parsed']);
  });

  it('reports a line nested 5,000 deep and a line over 1 MiB as invalid, unparsed, and goes on with the lines after them (exit 3)', async () => {
    const [valid] = readFileSync(EVENTS, 'utf8').split('\n');
    const deep = `{"uuid":"deep","debugContext":${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}}`;
    const large = JSON.stringify({ ...(JSON.parse(valid ?? '') as Record<string, unknown>), uuid: 'large', pad: 'x'.repeat(1024 * 1024) });
    const out = path.join(dir, 'bounded-out.ndjson');
    const quarantine = path.join(dir, 'bounded-quarantine.ndjson');

    const result = await run(['-', '--out', out, '--quarantine', quarantine], `${valid}\n${deep}\n${large}\n${valid}\n`);

    expect(result.code).toBe(3);
    expect(result.stderr).toBe('2 valid, 2 invalid\n');
    expect(jsonLines(readFileSync(out, 'utf8'))).toHaveLength(2);
    const [deepItem, largeItem] = jsonLines(readFileSync(quarantine, 'utf8'));
    expect(deepItem).toEqual({
      event: deep,
      errors: ['the event nests 5001 levels deep, over the bound of 64; kept as its raw text, not parsed'],
    });
    expect(largeItem).toEqual({
      event: large,
      errors: [
        `the event is ${Buffer.byteLength(large)} bytes, over the bound of 1048576 bytes per event; kept as its raw text, not parsed`,
      ],
    });
  });

  it('escapes C1 controls and bidi overrides on stdout and stderr (the same JSON values), and writes files byte for byte', async () => {
    const [valid] = readFileSync(EVENTS, 'utf8').split('\n');
    // U+009B is the 8-bit CSI, U+202E a right-to-left override, U+00AD a soft hyphen, U+2028 a line separator.
    const hostile = '\u009b31m\u202egnp.exe\u00ad\u2028';
    const event = { ...(JSON.parse(valid ?? '') as Record<string, unknown>), displayMessage: hostile };
    const invalid = { uuid: hostile };
    const input = `${JSON.stringify(event)}\n${JSON.stringify(invalid)}\n`;
    const out = path.join(dir, 'raw-out.ndjson');

    const shown = await run([], input);
    const filed = await run(['-', '--out', out], input);

    expect(shown.code).toBe(3);
    for (const text of [shown.stdout, shown.stderr]) expect(text).not.toMatch(/[\u007f-\u009f\p{Cf}\u2028\u2029]/u);
    expect(jsonLines(shown.stdout)[0]?.displayMessage).toBe(hostile);
    expect(JSON.parse(shown.stderr.split('\n')[0] ?? '')).toMatchObject({ event: invalid });
    // The file is what the stream receives: the characters as they were.
    expect(filed.code).toBe(3);
    expect(readFileSync(out, 'utf8')).toContain(hostile);
  });

  it('writes invalid events to stderr by default, before the summary', async () => {
    const result = await run([], '{"uuid":"u"}\n');

    expect(result.code).toBe(3);
    const [line, summary] = result.stderr.split('\n');
    expect(JSON.parse(line ?? '')).toEqual({
      event: { uuid: 'u' },
      errors: ['published: is required', 'eventType: is required', 'version: is required', 'severity: is required'],
    });
    expect(summary).toBe('0 valid, 1 invalid');
  });

  it.each([
    [['/no/such/file.ndjson'], /^okta-log-pipeline validate: cannot read \/no\/such\/file\.ndjson: ENOENT/],
    [['--log-type', 'Okta.Nope'], /^okta-log-pipeline validate: --log-type: unknown log type "Okta.Nope"; known: Okta.SystemLog/],
    [['--frobnicate'], /^okta-log-pipeline validate: unknown option "--frobnicate"/],
    [['a.ndjson', 'b.ndjson'], /^okta-log-pipeline validate: expected at most one input file/],
    [['--out'], /^okta-log-pipeline validate: --out needs a value/],
    [['--out='], /^okta-log-pipeline validate: --out needs a value/],
    [['-x'], /^okta-log-pipeline validate: unknown option "-x"/],
    [['--'], /^okta-log-pipeline validate: unknown option "--"/],
    [['--log-type', 'Okta.SystemLog', '--log-type', 'Okta.Nope'], /^okta-log-pipeline validate: --log-type: unknown log type "Okta.Nope"/],
  ])('exits 2 with one clear line for %j', async (args, message) => {
    const result = await run(args);

    expect(result.code).toBe(2);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });

  it('says in its help that blank lines are skipped', async () => {
    const result = await run(['--help']);

    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Blank lines are skipped');
  });

  it('handles an input larger than one read chunk, in order', async () => {
    const lines = readFileSync(EVENTS, 'utf8')
      .split('\n')
      .filter((line) => line !== '');
    const big = path.join(dir, 'big.ndjson');
    writeFileSync(big, `${Array.from({ length: 40 }, () => lines.join('\n')).join('\n')}\n`);

    const result = await run([big]);

    expect(result.code).toBe(0);
    expect(result.stderr).toBe(`${40 * lines.length} valid, 0 invalid\n`);
    expect(jsonLines(result.stdout)).toHaveLength(40 * lines.length);
  });
});
