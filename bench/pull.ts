/**
 * Bench section `pull`: a backlog of 100,000 events pulled over loopback from the emulated org
 * through the real Okta client and pullSource, with validation and normalisation, into an
 * in-memory sink. Figures: `eventsPerSec` (end to end), and `requestsPer1000Events` (goal ≤ 1.01:
 * full pages of 1,000 and one short page to learn it is caught up, no empty request after it).
 */
import { performance } from 'node:perf_hooks';
import { systemClock } from '../lambdas/core/clock';
import { createOktaClient } from '../lambdas/core/okta';
import { pullSource } from '../lambdas/core/pull/pull-source';
import { MemoryCursorStore } from '../lambdas/adapters/local';
import type { RecordSink, SerializedRecord, SourceConfig } from '../lambdas/core/ports';
import { eventProcessorFor } from '../lambdas/core/schema';
import { startOktaOrg } from '../local/okta-emulator';
import type { BenchSection } from './section';

/** The backlog the issue names: big enough that per-request overhead and page size show. */
const BACKLOG = 100_000;
/** High enough that the bench measures the pipeline, not the reserve's waits. */
const RATE_LIMIT_PER_MINUTE = 100_000;

/** Counts records the way a sink that is never the bottleneck would. */
class CountingSink implements RecordSink {
  count = 0;

  async write(records: readonly SerializedRecord[]): Promise<{ rejected: Array<{ record: SerializedRecord; reason: string }> }> {
    this.count += records.length;
    return { rejected: [] };
  }
}

export const pullBench: BenchSection = {
  name: 'pull',
  async run(print) {
    const org = await startOktaOrg({ rateLimitPerMinute: RATE_LIMIT_PER_MINUTE, seed: 11 });
    try {
      org.generate(BACKLOG, { spreadMs: 30 * 60_000 });
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
      const sink = new CountingSink();
      let quarantined = 0;
      const deps = {
        okta: createOktaClient(source, { clock: systemClock, allowLoopback: true }),
        cursors: new MemoryCursorStore(),
        sink,
        quarantine: { put: async (items: readonly unknown[]) => void (quarantined += items.length) },
        processor: eventProcessorFor('Okta.SystemLog'),
        clock: systemClock,
      };
      const started = performance.now();
      const summary = await pullSource(deps, source, { owner: 'bench', deadline: Number.POSITIVE_INFINITY, leaseMs: 3_600_000 });
      const seconds = (performance.now() - started) / 1000;
      if (summary.outcome !== 'caught-up' || sink.count + quarantined !== BACKLOG) {
        throw new Error(`pull bench: expected ${BACKLOG} events caught up, got ${summary.outcome} with ${sink.count} delivered and ${quarantined} quarantined (${summary.error?.message ?? 'no error'})`);
      }
      const requests = org.requests.filter((request) => request.path === '/api/v1/logs').length;
      const eventsPerSec = Math.round(BACKLOG / seconds);
      const requestsPer1000Events = Number(((requests * 1000) / BACKLOG).toFixed(3));
      print(`backlog              ${BACKLOG} events (${sink.count} delivered, ${quarantined} quarantined)`);
      print(`requests             ${requests} (${summary.pages} pages)`);
      print(`elapsed              ${seconds.toFixed(2)} s`);
      print(`events/s             ${eventsPerSec}`);
      print(`requests/1000 events ${requestsPer1000Events} (goal <= 1.01)`);
      return { eventsPerSec, requestsPer1000Events };
    } finally {
      await org.close();
    }
  },
};
