/**
 * Bench section `pull`: a backlog of 100,000 events pulled over loopback from the emulated org
 * through the real Okta client and pullSource, with validation and normalisation, into an
 * in-memory sink. Figures: `eventsPerSec` (end to end), and `requestsPer1000Events` (goal ≤ 1.01:
 * full pages of 1,000 and one short page to learn it is caught up, no empty request after it).
 *
 * In the same process and run, a download-only client (follows `next` links and decodes each
 * body, nothing else) reads the same backlog from the same emulator: the floor that Okta's
 * sequential paging puts under any pull. `ratioToDownloadFloor` = pull time / floor time, each the
 * fastest of `ROUNDS` rounds taken alternately, so that a neighbour's burst on a shared machine
 * does not land on one side only.
 *
 * The emulated org runs in a child process (local/okta-emulator/main.ts), as Okta runs on its own
 * machines: in this process its page building would take the pull's CPU, and the time Okta spends
 * serving a page, which the pull can use to deliver the previous one, would not exist.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { systemClock } from '../lambdas/core/clock';
import { createOktaClient, parseLinkHeader } from '../lambdas/core/okta';
import { pullSource } from '../lambdas/core/pull/pull-source';
import { MemoryCursorStore } from '../lambdas/adapters/local';
import type { RecordSink, SerializedRecord, SourceConfig } from '../lambdas/core/ports';
import { eventProcessorFor } from '../lambdas/core/schema';
import type { BenchSection } from './section';

/** The backlog the issue names: big enough that per-request overhead and page size show. */
const BACKLOG = 100_000;
/** High enough that the bench measures the pipeline, not the reserve's waits. */
const RATE_LIMIT_PER_MINUTE = 100_000;

const EMULATOR_MAIN = path.resolve(__dirname, '../local/okta-emulator/main.ts');
const LOGS_PATH = '/api/v1/logs';

/** The emulated org in its own process, and the `fetch` every client of the bench goes through (it counts the log requests). */
interface RemoteOrg {
  readonly origin: string;
  readonly apiToken: string;
  readonly fetch: typeof fetch;
  logRequests(): number;
  close(): Promise<void>;
}

/** Starts local/okta-emulator/main.ts with the backlog and waits for its JSON line. */
async function startRemoteOrg(): Promise<RemoteOrg> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', EMULATOR_MAIN, '--events', String(BACKLOG), '--rate-limit', String(RATE_LIMIT_PER_MINUTE), '--seed', '11'],
    { cwd: path.resolve(__dirname, '..'), stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const first = await new Promise<string>((resolve, reject) => {
    lines.once('line', resolve);
    child.once('exit', (code) => reject(new Error(`pull bench: the emulated org exited (${String(code)}) before listening`)));
  });
  lines.close();
  const { origin, apiToken } = JSON.parse(first) as { origin: string; apiToken: string };
  let requests = 0;
  const counting: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    if (new URL(url).pathname === LOGS_PATH) requests += 1;
    return fetch(input, init);
  };
  return {
    origin,
    apiToken,
    fetch: counting,
    logRequests: () => requests,
    async close() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Rounds of floor and pull, alternating; each figure is its fastest round. */
const ROUNDS = 2;
/** What the pull asks for: Okta's largest page (the client's default). */
const PAGE_SIZE = 1000;

/**
 * The download floor: the same polling request the pull starts with, then every `next` link until
 * a short page, each body decoded (JSON.parse) and dropped. No validation, no delivery, no cursor.
 */
async function downloadOnly(org: RemoteOrg, since: string): Promise<{ events: number; requests: number }> {
  let url: string | undefined =
    `${org.origin}${LOGS_PATH}?${new URLSearchParams({ since, limit: String(PAGE_SIZE), sortOrder: 'ASCENDING' }).toString()}`;
  let events = 0;
  let requests = 0;
  while (url !== undefined) {
    const response = await org.fetch(url, { headers: { accept: 'application/json', authorization: `SSWS ${org.apiToken}` } });
    requests += 1;
    if (response.status !== 200) throw new Error(`download floor: GET answered ${response.status}`);
    const page = JSON.parse(await response.text()) as unknown[];
    events += page.length;
    url = page.length < PAGE_SIZE ? undefined : parseLinkHeader(response.headers.get('link')).get('next');
  }
  return { events, requests };
}

/** Counts records the way a sink that is never the bottleneck would. */
class CountingSink implements RecordSink {
  count = 0;

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    this.count += records.length;
    return { rejected: [] };
  }
}

/** One pull of the whole backlog from scratch (a fresh cursor store), through the real client and core. */
async function pullOnce(
  source: SourceConfig,
  org: RemoteOrg,
): Promise<{ seconds: number; requests: number; pages: number; delivered: number; quarantined: number }> {
  const sink = new CountingSink();
  let quarantined = 0;
  const deps = {
    okta: createOktaClient(source, { clock: systemClock, allowLoopback: true, fetch: org.fetch }),
    cursors: new MemoryCursorStore(systemClock),
    sink,
    quarantine: { put: async (items: readonly unknown[]) => void (quarantined += items.length) },
    processor: eventProcessorFor('Okta.SystemLog'),
    clock: systemClock,
  };
  const requestsBefore = org.logRequests();
  const started = performance.now();
  const summary = await pullSource(deps, source, { owner: 'bench', deadline: Number.POSITIVE_INFINITY, leaseMs: 3_600_000 });
  const seconds = (performance.now() - started) / 1000;
  if (summary.outcome !== 'caught-up' || sink.count + quarantined !== BACKLOG) {
    throw new Error(
      `pull bench: expected ${BACKLOG} events caught up, got ${summary.outcome} with ${sink.count} delivered and ${quarantined} quarantined (${summary.error?.message ?? 'no error'})`,
    );
  }
  const requests = org.logRequests() - requestsBefore;
  return { seconds, requests, pages: summary.pages, delivered: sink.count, quarantined };
}

export const pullBench: BenchSection = {
  name: 'pull',
  async run(print) {
    const org = await startRemoteOrg();
    try {
      const source: SourceConfig = {
        id: 'bench',
        domain: org.origin,
        label: 'bench',
        dropOffMinutes: 60,
        backfillHours: 1,
        enabled: true,
        allowCustomDomain: false,
        credential: { kind: 'apiToken', token: org.apiToken },
      };
      const since = new Date(Date.now() - source.backfillHours * 3_600_000).toISOString();
      const floorRuns: number[] = [];
      const pullRuns: Array<{ seconds: number; requests: number; pages: number; delivered: number; quarantined: number }> = [];
      for (let round = 0; round < ROUNDS; round += 1) {
        const floorStarted = performance.now();
        const floor = await downloadOnly(org, since);
        floorRuns.push((performance.now() - floorStarted) / 1000);
        if (floor.events !== BACKLOG) throw new Error(`pull bench: the download floor read ${floor.events} events, expected ${BACKLOG}`);
        pullRuns.push(await pullOnce(source, org));
      }
      const floorSeconds = Math.min(...floorRuns);
      const fastest = pullRuns.reduce((best, run) => (run.seconds < best.seconds ? run : best));
      const { seconds, requests } = fastest;
      const eventsPerSec = Math.round(BACKLOG / seconds);
      const requestsPer1000Events = Number(((requests * 1000) / BACKLOG).toFixed(3));
      const ratioToDownloadFloor = Math.round((seconds / floorSeconds) * 100) / 100;
      print(`backlog              ${BACKLOG} events (${fastest.delivered} delivered, ${fastest.quarantined} quarantined)`);
      print(`requests             ${requests} (${fastest.pages} pages)`);
      print(
        `elapsed              ${seconds.toFixed(2)} s (fastest of ${ROUNDS}: ${pullRuns.map((run) => run.seconds.toFixed(2)).join(', ')})`,
      );
      print(
        `download floor       ${floorSeconds.toFixed(2)} s (fastest of ${ROUNDS}: ${floorRuns.map((run) => run.toFixed(2)).join(', ')})`,
      );
      print(`events/s             ${eventsPerSec}`);
      print(`requests/1000 events ${requestsPer1000Events} (goal <= 1.01)`);
      print(`ratioToDownloadFloor ${ratioToDownloadFloor} (goal <= 1.25)`);
      return { eventsPerSec, requestsPer1000Events, ratioToDownloadFloor };
    } finally {
      await org.close();
    }
  },
};
