/**
 * `okta-log-pipeline demo` (what `npm start` runs): two emulated Okta orgs, one busy and one quiet,
 * pulled by the real puller on a schedule and judged by the real detections, all on loopback
 * (see `local/runtime`). Shows per source what the operator would watch in CloudWatch, prints
 * alerts as they fire, writes every record read back from the stream to an NDJSON file, and ends
 * with a reconciliation of served against delivered events read back from the stream.
 */
import { createWriteStream, mkdtempSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import { LocalArchive } from '../../lambdas/adapters/local';
import { systemClock } from '../../lambdas/core/clock';
import { startLocalPipeline, type LocalPipeline, type SourceHealth } from '../runtime';
import { Dashboard, type SourceView } from './dashboard';
import { StreamTally, type DeliveryTally } from './tally';

/** The demo's two orgs: rates that look alive without loading a two-core machine. */
export const DEMO_SOURCES = {
  busy: {
    sourceId: 'busy-org',
    label: 'Busy org (emulated)',
    // Three events a second: the detections' state writes to dynalite stay well under a core.
    eventsPerMinute: 180,
    dropOffMinutes: 60,
    seed: 1,
  },
  quiet: {
    sourceId: 'quiet-org',
    label: 'Quiet org (emulated)',
    eventsPerMinute: 6,
    // One minute instead of an hour, so that the drop-off alarm can be seen firing in a short demo.
    dropOffMinutes: 1,
    seed: 2,
  },
} as const;

/** Final pulls after the traffic stopped, until every source is caught up. More means something is wrong. */
const MAX_FINAL_PULLS = 5;
/** How often a terminal dashboard is redrawn. */
const REDRAW_MS = 1000;

export interface DemoOptions {
  /** Seconds between puller invocations (EventBridge's schedule is one minute). */
  readonly intervalSeconds: number;
  /** Stops by itself after this many seconds; otherwise runs until `signal` aborts. */
  readonly forSeconds?: number;
  /** Stops the quiet org's traffic after this many seconds, so its drop-off alarm fires. */
  readonly quietOrgStopsAfterSeconds?: number;
  /** The NDJSON file of records read back from the stream. @default records.ndjson in the work dir */
  readonly out?: string;
  /**
   * The archive directory: what Firehose would write to S3 from the stream, in the same layout and
   * format, for `okta-log-pipeline query --archive DIR`. @default archive/ in the work dir
   */
  readonly archive?: string;
}

export interface DemoIo {
  readonly stdout: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Ctrl-C: finish cleanly (final pull, read-back, summary). */
  readonly signal: AbortSignal;
}

/** Runs the demo; resolves with the final tally once everything is stopped. */
export async function runDemo(options: DemoOptions, io: DemoIo): Promise<DeliveryTally> {
  const print = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };
  const workDir = mkdtempSync(join(tmpdir(), 'okta-log-pipeline-demo-'));
  const recordsPath = options.out ?? join(workDir, 'records.ndjson');
  const archive = new LocalArchive(options.archive ?? join(workDir, 'archive'), systemClock);
  print('okta-log-pipeline demo: starting two emulated Okta orgs, kinesalite, dynalite, the Secrets Manager, S3 and SNS stand-ins,');
  print('and the real puller and detections handlers in emulated Lambda containers (all on 127.0.0.1)...');
  const pipeline = await startLocalPipeline({
    workDir,
    sources: [DEMO_SOURCES.busy, DEMO_SOURCES.quiet],
    // A run must end before the next tick, as the 55-second budget does for the one-minute schedule.
    runBudgetSeconds: Math.max(1, Math.min(55, Math.floor(options.intervalSeconds * 0.9))),
  });
  const records = createWriteStream(recordsPath, { flags: 'w' });
  try {
    return await new DemoRun(pipeline, options, io, records, recordsPath, archive, print).run();
  } finally {
    records.end();
    await once(records, 'close');
    await pipeline.stop();
  }
}

class DemoRun {
  private readonly tally = new StreamTally();
  private readonly deliveredBySource = new Map<string, number>();
  private readonly health = new Map<string, SourceHealth>();
  private readonly alerts: AlertMessage[] = [];
  private readonly dashboard: Dashboard;
  private readonly startedAt = systemClock.now();
  private runs = 0;
  private skippedTicks = 0;
  private detectionFailures = 0;
  private running: Promise<unknown> | undefined;

  constructor(
    private readonly pipeline: LocalPipeline,
    private readonly options: DemoOptions,
    private readonly io: DemoIo,
    private readonly records: NodeJS.WritableStream,
    private readonly recordsPath: string,
    private readonly archive: LocalArchive,
    private readonly print: (line: string) => void,
  ) {
    this.dashboard = new Dashboard(io.stdout, io.stdout.isTTY === true);
  }

  async run(): Promise<DeliveryTally> {
    const { pipeline, options } = this;
    const say = (line: string): void => {
      this.print(line);
      this.dashboard.keep(line);
    };
    say(`sources are registered in ${pipeline.secretsFile} (Secrets Manager's format; tokens are not shown)`);
    say(`records read back from the stream go to ${this.recordsPath}`);
    say(
      `and to the archive ${this.archive.directory} (as Firehose writes S3): okta-log-pipeline query --archive ${this.archive.directory} "SQL"`,
    );
    say(`the Lambda containers' logs go to ${pipeline.logFile}`);
    say(
      `${DEMO_SOURCES.quiet.sourceId} uses dropOffMinutes=${DEMO_SOURCES.quiet.dropOffMinutes} (not the default 60) so that its drop-off alarm can fire within a short demo` +
        (options.quietOrgStopsAfterSeconds === undefined ? '; --quiet-org-stops-after SECONDS stops its traffic to show it.' : '.'),
    );
    say(
      `puller every ${options.intervalSeconds} s${options.forSeconds === undefined ? ', Ctrl-C to stop' : ` for ${options.forSeconds} s (Ctrl-C stops earlier)`}`,
    );

    const timers: NodeJS.Timeout[] = [];
    if (options.quietOrgStopsAfterSeconds !== undefined) {
      timers.push(setTimeout(() => this.stopQuietOrg(), options.quietOrgStopsAfterSeconds * 1000));
    }
    if (this.dashboard.live) {
      timers.push(setInterval(() => this.redraw(), REDRAW_MS));
    }
    const finished = this.waitForEnd();
    const schedule = this.schedule(finished);
    await finished;
    for (const timer of timers) clearInterval(timer);
    await schedule;
    await this.running;
    return this.finish();
  }

  /** Resolves at `--for` or Ctrl-C, whichever comes first. */
  private waitForEnd(): Promise<void> {
    return new Promise((resolve) => {
      if (this.io.signal.aborted) return resolve();
      const timer = this.options.forSeconds === undefined ? undefined : setTimeout(resolve, this.options.forSeconds * 1000);
      this.io.signal.addEventListener(
        'abort',
        () => {
          if (timer !== undefined) clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  }

  /**
   * Invokes the puller at start + k × interval, as EventBridge does. A tick that finds the
   * previous run still going is skipped and counted (in AWS it would start a second container;
   * the puller's lease would make it skip the busy sources).
   */
  private async schedule(finished: Promise<void>): Promise<void> {
    let stopped = false;
    void finished.then(() => {
      stopped = true;
    });
    for (let tick = 0; !stopped; tick += 1) {
      if (this.running === undefined) {
        this.running = this.cycle().finally(() => {
          this.running = undefined;
        });
      } else {
        this.skippedTicks += 1;
      }
      const wait = this.startedAt + (tick + 1) * this.options.intervalSeconds * 1000 - systemClock.now();
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)))]);
    }
  }

  /** One schedule tick: the puller, then the stream read back and fed to the detections. */
  private async cycle(): Promise<{ allCaughtUp: boolean }> {
    let allCaughtUp = false;
    try {
      const run = await this.pipeline.runPuller();
      this.runs += 1;
      allCaughtUp = run.sources.length === this.pipeline.orgs.length && run.sources.every((source) => source.outcome === 'caught-up');
    } catch (error) {
      this.print(`puller invocation failed: ${error instanceof Error ? error.message : String(error)} (see ${this.pipeline.logFile})`);
    }
    await this.readBack();
    await this.updateHealth();
    if (!this.dashboard.live) this.dashboard.printStatus(this.view(), this.elapsedSeconds(), this.runs);
    return { allCaughtUp };
  }

  private async readBack(): Promise<void> {
    const { records, detections } = await this.pipeline.pump();
    const texts = records.map((record) => record.data.toString('utf8'));
    // Firehose reads the same stream: every record read back is archived, duplicates included.
    await this.archive.append(texts);
    for (const [index, record] of records.entries()) {
      const text = texts[index] as string;
      this.records.write(`${text}\n`);
      this.tally.add(record.partitionKey);
      const sourceId = sourceOf(text);
      this.deliveredBySource.set(sourceId, (this.deliveredBySource.get(sourceId) ?? 0) + 1);
    }
    this.detectionFailures += detections.abandoned;
    for (const alert of detections.alerts) {
      this.alerts.push(alert);
      if (!this.dashboard.live) this.dashboard.printAlert(alert);
    }
  }

  /** Drop-off and lag as the alarm sees them: the puller's own metric function at the end of each run. */
  private async updateHealth(): Promise<void> {
    for (const health of await this.pipeline.health()) {
      const before = this.health.get(health.sourceId);
      this.health.set(health.sourceId, health);
      const org = this.pipeline.orgs.find((candidate) => candidate.sourceId === health.sourceId);
      if (org !== undefined && (before?.metrics.DropOffBreached ?? 0) !== health.metrics.DropOffBreached) {
        this.dashboard.note(
          health.metrics.DropOffBreached === 1
            ? `ALARM drop-off: ${org.sourceId} (${org.label}) has delivered no events for ${health.metrics.MinutesSinceLastEvent.toFixed(1)} min (dropOffMinutes ${org.dropOffMinutes})`
            : `OK drop-off: ${org.sourceId} (${org.label}) delivers events again`,
        );
      }
    }
  }

  private stopQuietOrg(): void {
    const quiet = this.pipeline.orgs.find((org) => org.sourceId === DEMO_SOURCES.quiet.sourceId);
    quiet?.stopTraffic();
    this.dashboard.note(
      `stopped the traffic of ${DEMO_SOURCES.quiet.sourceId} (--quiet-org-stops-after); its drop-off alarm fires after ${DEMO_SOURCES.quiet.dropOffMinutes} min of silence`,
    );
  }

  private view(): SourceView[] {
    const now = systemClock.now();
    return this.pipeline.orgs.map((org) => {
      const health = this.health.get(org.sourceId);
      const activity = health?.activity;
      const newest = activity?.newestPublished === undefined ? Number.NaN : Date.parse(activity.newestPublished);
      const windowStart = now - 60_000;
      let used = 0;
      for (let index = org.org.requests.length - 1; index >= 0; index -= 1) {
        const request = org.org.requests[index];
        if (request === undefined || request.at < windowStart) break;
        if (request.path === '/api/v1/logs') used += 1;
      }
      return {
        sourceId: org.sourceId,
        label: org.label,
        served: org.org.storedEvents().length,
        delivered: this.deliveredBySource.get(org.sourceId) ?? 0,
        lagSeconds: Number.isNaN(newest) ? undefined : Math.max(0, Math.round((now - newest) / 1000)),
        cursorAgeSeconds: activity?.updatedAt === undefined ? undefined : Math.max(0, Math.round((now - activity.updatedAt) / 1000)),
        rateLimitUsed: used,
        rateLimit: org.rateLimitPerMinute,
        dropOffMinutes: org.dropOffMinutes,
        minutesSinceLastEvent: health?.metrics.MinutesSinceLastEvent,
        dropOffBreached: health?.metrics.DropOffBreached === 1,
        trafficStopped: org.traffic === undefined,
      };
    });
  }

  private redraw(): void {
    this.dashboard.draw({
      elapsedSeconds: this.elapsedSeconds(),
      forSeconds: this.options.forSeconds,
      intervalSeconds: this.options.intervalSeconds,
      runs: this.runs,
      skippedTicks: this.skippedTicks,
      sources: this.view(),
      alerts: this.alerts,
    });
  }

  private elapsedSeconds(): number {
    return Math.round((systemClock.now() - this.startedAt) / 1000);
  }

  /** Stops the traffic, pulls until every source is caught up, reads everything back, reconciles. */
  private async finish(): Promise<DeliveryTally> {
    for (const org of this.pipeline.orgs) org.stopTraffic();
    if (this.dashboard.live) this.redraw();
    this.print('stopping: traffic stopped; final pull and read-back so that everything served is delivered...');
    for (let pull = 1; pull <= MAX_FINAL_PULLS; pull += 1) {
      if ((await this.cycle()).allCaughtUp) break;
    }
    const served = this.pipeline.orgs.flatMap((org) => org.org.storedEvents().map((event) => String(event.uuid)));
    const quarantined = this.pipeline.quarantined().map((item) => uuidOf(item.event));
    const tally = this.tally.reconcile(served, quarantined);
    this.dashboard.printSummary({
      tally,
      sources: this.view(),
      runs: this.runs,
      skippedTicks: this.skippedTicks,
      alerts: this.alerts,
      detectionFailures: this.detectionFailures,
      recordsPath: this.recordsPath,
      logFile: this.pipeline.logFile,
    });
    this.print(JSON.stringify(tally));
    return tally;
  }
}

function sourceOf(recordJson: string): string {
  const record = JSON.parse(recordJson) as { p_source_id?: unknown };
  return typeof record.p_source_id === 'string' ? record.p_source_id : '';
}

function uuidOf(event: unknown): string {
  return typeof event === 'object' && event !== null && 'uuid' in event ? String(event.uuid) : '';
}
