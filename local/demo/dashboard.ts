/**
 * The demo's terminal output: a dashboard redrawn in place when stdout is a terminal, plain
 * appended lines otherwise (CI logs, pipes, the tests). Never shows a credential: it is only
 * given counts, ages, ids, labels and alert summaries.
 */
import type { AlertMessage } from '../../lambdas/core/detections/ports';
import type { DeliveryTally } from './tally';

/** One source as the dashboard shows it. */
export interface SourceView {
  readonly sourceId: string;
  readonly label: string;
  /** Events the emulated org has stored (served). */
  readonly served: number;
  /** Records of this source read back from the stream. */
  readonly delivered: number;
  /** Now minus the newest `published` delivered. */
  readonly lagSeconds?: number;
  /** Now minus the cursor's last save. */
  readonly cursorAgeSeconds?: number;
  /** /api/v1/logs requests the org answered in the last 60 s, against its per-minute limit. */
  readonly rateLimitUsed: number;
  readonly rateLimit: number;
  readonly dropOffMinutes: number;
  /** As of the last puller run (the datapoint the alarm evaluates). */
  readonly minutesSinceLastEvent?: number;
  readonly dropOffBreached: boolean;
  readonly trafficStopped: boolean;
}

export interface DashboardFrame {
  readonly elapsedSeconds: number;
  readonly forSeconds?: number;
  readonly intervalSeconds: number;
  readonly runs: number;
  readonly skippedTicks: number;
  readonly sources: readonly SourceView[];
  readonly alerts: readonly AlertMessage[];
}

export interface DemoSummaryView {
  readonly tally: DeliveryTally;
  readonly sources: readonly SourceView[];
  readonly runs: number;
  readonly skippedTicks: number;
  readonly alerts: readonly AlertMessage[];
  readonly detectionFailures: number;
  readonly recordsPath: string;
  readonly logFile: string;
}

/** Alerts and notes kept on a live dashboard; older ones scroll off (they are counted). */
const LIVE_ALERT_LINES = 8;
const LIVE_NOTE_LINES = 4;
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

export class Dashboard {
  private readonly notes: string[] = [];
  /** Lines printed before the first redraw (paths, notes), kept at the top of every frame. */
  private readonly header: string[] = [];

  constructor(
    private readonly out: NodeJS.WritableStream,
    /** Redraw in place (a terminal) rather than append lines. */
    readonly live: boolean,
  ) {}

  /** Remembers a line of the preamble, shown on top of every live frame. */
  keep(line: string): void {
    this.header.push(line);
  }

  /** An event worth a line of its own (alarm state changes, traffic stopped). */
  note(text: string): void {
    const line = `${clock()} ${text}`;
    if (this.live) {
      this.notes.push(line);
      this.notes.splice(0, Math.max(0, this.notes.length - LIVE_NOTE_LINES));
    } else {
      this.write(line);
    }
  }

  printAlert(alert: AlertMessage): void {
    this.write(`${clock()} ${alertLine(alert)}`);
  }

  /** The plain status after a run, one line per source. */
  printStatus(sources: readonly SourceView[], elapsedSeconds: number, runs: number): void {
    for (const source of sources) this.write(`${duration(elapsedSeconds)} run ${runs} ${statusLine(source)}`);
  }

  draw(frame: DashboardFrame): void {
    const lines = [
      ...this.header,
      '',
      `running ${duration(frame.elapsedSeconds)}${frame.forSeconds === undefined ? '' : ` of ${duration(frame.forSeconds)}`}, puller every ${frame.intervalSeconds} s, ${frame.runs} runs` +
        (frame.skippedTicks > 0 ? `, ${plural(frame.skippedTicks, 'tick')} skipped (previous run still going)` : '') +
        '   Ctrl-C stops cleanly',
      '',
      ...table(frame.sources),
      '',
      ...(this.notes.length > 0 ? [...this.notes, ''] : []),
      `alerts: ${frame.alerts.length}`,
      ...frame.alerts.slice(-LIVE_ALERT_LINES).map((alert) => `  ${alertLine(alert)}`),
    ];
    this.out.write(`${CLEAR_SCREEN}${lines.join('\n')}\n`);
  }

  printSummary(summary: DemoSummaryView): void {
    const { tally } = summary;
    const fresh = summary.alerts.filter((alert) => alert.status === 'new');
    const byRule = new Map<string, number>();
    for (const alert of fresh) byRule.set(alert.ruleId, (byRule.get(alert.ruleId) ?? 0) + 1);
    this.write('');
    this.write('summary');
    this.write(
      `  puller runs: ${summary.runs}${summary.skippedTicks > 0 ? ` (${plural(summary.skippedTicks, 'tick')} skipped while a run was still going)` : ''}`,
    );
    for (const line of table(summary.sources)) this.write(`  ${line}`);
    this.write(
      `  alerts raised: ${fresh.length}${byRule.size > 0 ? ` (${[...byRule].map(([rule, count]) => `${rule} ${count}`).join(', ')})` : ''}, updates: ${summary.alerts.length - fresh.length}`,
    );
    if (summary.detectionFailures > 0)
      this.write(`  records the detections gave up on after retries: ${summary.detectionFailures} (see the log)`);
    this.write(
      `  served ${tally.eventsServed}, delivered ${tally.eventsDelivered} (read back from the stream), duplicates ${tally.duplicates}, invalid ${tally.invalid}, lost: ${tally.lost}`,
    );
    this.write(`  records: ${summary.recordsPath}`);
    this.write(`  Lambda logs: ${summary.logFile}`);
  }

  private write(line: string): void {
    this.out.write(`${line}\n`);
  }
}

function table(sources: readonly SourceView[]): string[] {
  const rows = [
    ['source', 'label', 'served', 'delivered', 'lag', 'cursor age', 'rate limit (60 s)', 'drop-off'],
    ...sources.map((source) => [
      `${source.sourceId}${source.trafficStopped ? ' (traffic stopped)' : ''}`,
      source.label,
      String(source.served),
      String(source.delivered),
      seconds(source.lagSeconds),
      seconds(source.cursorAgeSeconds),
      headroom(source),
      dropOff(source),
    ]),
  ];
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? '').length))) ?? [];
  return rows.map((row) =>
    row
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join('  ')
      .trimEnd(),
  );
}

function statusLine(source: SourceView): string {
  return (
    `${source.sourceId}: served ${source.served}, delivered ${source.delivered}, lag ${seconds(source.lagSeconds)}, ` +
    `cursor age ${seconds(source.cursorAgeSeconds)}, rate limit ${headroom(source)}, drop-off ${dropOff(source)}`
  );
}

function headroom(source: SourceView): string {
  return `${source.rateLimitUsed}/${source.rateLimit} used, ${Math.max(0, source.rateLimit - source.rateLimitUsed)} left`;
}

function dropOff(source: SourceView): string {
  if (source.minutesSinceLastEvent === undefined) return 'not pulled yet';
  const state = source.dropOffBreached ? 'ALARM' : 'ok';
  return `${state} (${source.minutesSinceLastEvent.toFixed(1)} of ${source.dropOffMinutes} min silent)`;
}

function alertLine(alert: AlertMessage): string {
  const verb = alert.status === 'new' ? 'ALERT' : 'alert updated';
  return `${verb} [${alert.severity}] ${alert.title} (source ${alert.sourceId}, ${plural(alert.eventCount, 'event')})`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function seconds(value: number | undefined): string {
  return value === undefined ? '-' : `${value} s`;
}

function duration(totalSeconds: number): string {
  const minutes = Math.floor(totalSeconds / 60);
  return `${minutes}:${String(totalSeconds % 60).padStart(2, '0')}`;
}

function clock(): string {
  return new Date().toISOString().slice(11, 19);
}
