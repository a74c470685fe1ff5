import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FileCursorStore, NdjsonOutput, NdjsonQuarantine, NdjsonRecordSink, StateFileError } from '../../lambdas/adapters/local';
import type { OutputRecord, SerializedRecord } from '../../lambdas/core/ports';
import { VirtualClock } from '../support/virtual-clock';

let directory: string;
beforeEach(() => {
  directory = mkdtempSync(join(tmpdir(), 'pull-local-'));
});
afterEach(() => {
  rmSync(directory, { recursive: true, force: true });
});

const record = (uuid: string): SerializedRecord => {
  const fields: OutputRecord = {
    uuid,
    p_log_type: 'Okta.SystemLog',
    p_event_time: '2026-01-01 00:00:00.000',
    p_parse_time: '2026-01-01 00:00:01.000',
    p_row_id: `row-${uuid}`,
    p_source_id: 'acme',
    p_source_label: 'Acme',
  };
  return { uuid, json: JSON.stringify(fields) };
};

describe('FileCursorStore', () => {
  it('starts empty without a file, and a later process reads back what was saved', async () => {
    const path = join(directory, 'state.json');
    const clock = new VirtualClock();
    const store = new FileCursorStore(path, clock);

    expect(await store.acquire('acme', 'run-1', 60_000)).toEqual({ cursor: {} });
    await store.save('acme', 'run-1', { nextUrl: 'https://acme.okta.com/api/v1/logs?after=1', lastEventAt: 5 });
    await store.release('acme', 'run-1');

    const reopened = new FileCursorStore(path, clock);
    expect(await reopened.acquire('acme', 'run-2', 60_000)).toEqual({
      cursor: { nextUrl: 'https://acme.okta.com/api/v1/logs?after=1', lastEventAt: 5 },
    });
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({
      version: 1,
      sources: { acme: { nextUrl: 'https://acme.okta.com/api/v1/logs?after=1', lastEventAt: 5 } },
    });
  });

  it('replaces the file by rename, leaving no temporary file, and keeps the other sources', async () => {
    const path = join(directory, 'state.json');
    writeFileSync(path, JSON.stringify({ version: 1, sources: { other: { nextUrl: 'https://other.okta.com/x' } } }));
    const store = new FileCursorStore(path, new VirtualClock());
    await store.acquire('acme', 'run-1', 60_000);

    await store.save('acme', 'run-1', { nextUrl: 'https://acme.okta.com/a' });
    await store.save('acme', 'run-1', { nextUrl: 'https://acme.okta.com/b' });

    expect(readdirSync(directory)).toEqual(['state.json']);
    expect((JSON.parse(readFileSync(path, 'utf8')) as { sources: unknown }).sources).toEqual({
      other: { nextUrl: 'https://other.okta.com/x' },
      acme: { nextUrl: 'https://acme.okta.com/b' },
    });
  });

  it('refuses a corrupt state file with a message naming it', async () => {
    const path = join(directory, 'state.json');
    writeFileSync(path, '{"version":1,"sources":');
    const store = new FileCursorStore(path, new VirtualClock());

    const attempt = store.acquire('acme', 'run-1', 60_000);

    await expect(attempt).rejects.toThrow(StateFileError);
    await expect(store.acquire('acme', 'run-1', 60_000)).rejects.toThrow(`state file ${path} is not valid JSON`);
  });
});

describe('NDJSON sink and quarantine', () => {
  it('appends one record per line to a file, across reopenings', async () => {
    const path = join(directory, 'out.ndjson');
    const first = await NdjsonOutput.openFile(path);
    await new NdjsonRecordSink(first).write([record('a'), record('b')]);
    await first.close();
    const second = await NdjsonOutput.openFile(path);

    const result = await new NdjsonRecordSink(second).write([record('c')]);
    await second.close();

    expect(result).toEqual({ rejected: [] });
    expect(
      readFileSync(path, 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => (JSON.parse(line) as { uuid: unknown }).uuid),
    ).toEqual(['a', 'b', 'c']);
  });

  it('writes quarantined events with source, time of receipt and reasons to a stream', async () => {
    const stream = new PassThrough();
    const chunks: string[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));

    await new NdjsonQuarantine(NdjsonOutput.toStream(stream)).put([
      {
        sourceId: 'acme',
        eventJson: JSON.stringify({ uuid: 'x', published: 'redacted' }),
        errors: ['published: not a timestamp'],
        receivedAt: Date.parse('2026-01-01T00:00:00.000Z'),
      },
    ]);

    expect(chunks.join('')).toBe(
      `${JSON.stringify({ sourceId: 'acme', receivedAt: '2026-01-01T00:00:00.000Z', errors: ['published: not a timestamp'], event: { uuid: 'x', published: 'redacted' } })}\n`,
    );
  });
});
