/**
 * The invariants of the soak, checked from what it observed: the stream read back, every call
 * each run made to Kinesis and DynamoDB (attributed to the run by its container and time), every
 * line the containers logged, every request the orgs answered, and the faults applied.
 */
import { SOURCE_ID_DIMENSION, type SourceMetricName } from '../../lambdas/core/metrics/metric-names';
import type { SourceMetrics } from '../../lambdas/core/metrics/source-metrics';
import type { RequestRecord, OktaEvent } from '../okta-emulator';
import type { LambdaLogLine, QuarantinedObject } from '../runtime';
import type { FaultKind } from './fault-plan';
import type { ObservedCall } from './observer-proxy';
import { parseJsonObject } from '../../lambdas/core/json';
import { cursorCall } from './calls';

export interface LoggedLine extends LambdaLogLine {
  /** Soak clock time at which the line arrived. */
  readonly at: number;
}

export interface AppliedFault {
  readonly kind: FaultKind;
  /** Empty for faults of a run rather than a source (aborts). */
  readonly sourceId: string;
  readonly at: number;
  readonly slowMs?: number;
  /** Lease races: the run whose lease was taken over. */
  readonly victim?: string;
}

/** A revoked token or a broken secret: it lasts until a run has reported it (`outageMetAt`). */
export interface Outage {
  readonly kind: 'okta-token-revoked' | 'secret-invalid';
  readonly sourceId: string;
  readonly from: number;
  /** When the soak ended it, having seen a run report it; absent while nobody has. */
  until?: number;
}

export type AbortKind = 'abort-before-write' | 'abort-between-write-and-save' | 'abort-after-save';

/** One puller invocation of the soak. */
export interface SoakInvocation {
  readonly requestId: string;
  readonly slot: string;
  readonly startedAt: number;
  endedAt?: number;
  abort?: AbortKind;
  /** When the soak killed it (its calls are refused from then on). */
  killedAt?: number;
  /** When its container was surely gone (the worker thread stopped): Okta requests it still made until then are its own. */
  deadAt?: number;
  failed?: string;
  readonly drain: boolean;
}

export interface SoakObservations {
  readonly lines: LoggedLine[];
  readonly invocations: SoakInvocation[];
  /** The call lists of every observer proxy. */
  readonly callLists: ObservedCall[][];
  readonly intruderAcquisitions: Array<{ sourceId: string; owner: string; requestAt: number; at: number; expiresAt: number }>;
  readonly intruderReleases: Array<{ sourceId: string; owner: string; at: number }>;
  readonly forcedExpiries: Array<{ sourceId: string; owner: string; at: number }>;
  readonly applied: AppliedFault[];
  readonly outages: Outage[];
  /** Invalid events the soak stored, by uuid → source: they belong in the quarantine, not the stream. */
  readonly invalidEventUuids: Map<string, string>;
  /** How long a container may use a secret it read (SECRET_CACHE_SECONDS), simulated ms. */
  readonly secretCacheMs: number;
}

export interface InvariantResult {
  readonly name: string;
  readonly held: boolean;
  readonly detail: string;
}

export interface InvariantInput {
  readonly observations: SoakObservations;
  /** The stream, read back from kinesalite. */
  readonly records: ReadonlyArray<Record<string, unknown>>;
  readonly served: ReadonlyArray<{ sourceId: string; events: readonly OktaEvent[]; requests: readonly RequestRecord[]; token: string }>;
  readonly quarantined: readonly QuarantinedObject[];
  /** When each quarantined event was received (soak clock), from the objects' bodies. */
  readonly quarantineReceipts: ReadonlyArray<{ sourceId: string; uuid: string; receivedAt: number }>;
  /** Calls the AWS fault proxies answered with a fault: what CloudWatch's AWS/Kinesis and AWS/DynamoDB metrics would count. */
  readonly awsFaultCalls: { readonly kinesis: number; readonly dynamoDb: number };
  readonly drained: boolean;
}

export interface InvariantSummary {
  readonly eventsServed: number;
  readonly eventsDelivered: number;
  readonly lost: number;
  readonly duplicates: number;
  /** Records written by runs that never saved the cursor past them: the most duplicates allowed. */
  readonly duplicatesAllowed: number;
  /** Faults that really happened (injected and met by a request or a run), by kind. */
  readonly faults: Record<string, number>;
}

/** The client's attempts per request (DEFAULT_OKTA_CLIENT_LIMITS): a failed page stands for this many faults. */
const ATTEMPTS_PER_FAILED_PAGE = 4;
/** 429s tolerated per request before OktaRateLimitError (maxRateLimitRetries + 1). */
const RATE_LIMITED_PER_FAILED_PAGE = 4;

const OKTA_FAULT_NAMES: Readonly<Record<string, string>> = {
  'rate-limit': 'okta-429',
  'concurrency-limit': 'okta-concurrency-429',
  'server-error': 'okta-5xx',
  unavailable: 'okta-503',
  'truncated-body': 'okta-truncated',
  'connection-reset': 'okta-reset',
  slow: 'okta-slow',
};

interface PullLog {
  readonly sourceId: string;
  readonly at: number;
  readonly failed: boolean;
  readonly errorKind?: string;
  readonly retries: number;
  readonly durationMs: number;
}

export function checkInvariants(input: InvariantInput): { results: InvariantResult[]; summary: InvariantSummary } {
  const { observations } = input;
  const calls = observations.callLists.flat();
  const results: InvariantResult[] = [];
  const check = (name: string, problems: readonly string[], fine: string): void => {
    results.push({
      name,
      held: problems.length === 0,
      detail:
        problems.length === 0 ? fine : problems.slice(0, 5).join('; ') + (problems.length > 5 ? `; and ${problems.length - 5} more` : ''),
    });
  };

  // 1. Every event served reaches the stream (valid ones) or the quarantine (the soak's invalid ones).
  const copies = new Map<string, number>();
  const streamSource = new Map<string, string>();
  for (const record of input.records) {
    const uuid = String(record.uuid);
    copies.set(uuid, (copies.get(uuid) ?? 0) + 1);
    streamSource.set(uuid, String(record.p_source_id));
  }
  const quarantinedUuids = new Set(
    input.quarantined.map((item) =>
      typeof item.event === 'object' && item.event !== null ? String((item.event as { uuid?: unknown }).uuid) : '',
    ),
  );
  const lossProblems: string[] = [];
  let eventsServed = 0;
  for (const org of input.served) {
    for (const event of org.events) {
      eventsServed += 1;
      const uuid = String(event.uuid);
      if (observations.invalidEventUuids.has(uuid)) {
        if (!quarantinedUuids.has(uuid)) lossProblems.push(`${org.sourceId}: invalid event ${uuid} is not in the quarantine`);
        if (copies.has(uuid)) lossProblems.push(`${org.sourceId}: invalid event ${uuid} reached the stream`);
      } else if (!copies.has(uuid)) {
        lossProblems.push(`${org.sourceId}: event ${uuid} (published ${String(event.published)}) never reached the stream`);
      } else if (streamSource.get(uuid) !== org.sourceId) {
        lossProblems.push(`${org.sourceId}: event ${uuid} reached the stream as source ${streamSource.get(uuid)}`);
      }
    }
  }
  const servedUuids = new Set(input.served.flatMap((org) => org.events.map((event) => String(event.uuid))));
  const phantoms = [...copies.keys()].filter((uuid) => !servedUuids.has(uuid));
  check(
    'every event served is in the stream (invalid ones in the quarantine)',
    [
      ...(input.drained ? [] : ['the pipeline did not catch up after the faults stopped']),
      ...lossProblems,
      ...phantoms.map((uuid) => `record ${uuid} was never served by any org`),
    ],
    `${eventsServed} events served, all accounted for`,
  );

  // 2. Duplicates only where a run wrote records and never saved the cursor past them, or re-sent them.
  const unsaved = new Map<string, number>();
  for (const invocation of observations.invocations) {
    const mine = callsOf(invocation, calls).sort((a, b) => a.requestAt - b.requestAt);
    // Only a save that moves the cursor past the page covers its write; the save that notes an error keeps the old cursor.
    const saves = mine.flatMap((call) => {
      const save = call.status === 200 ? cursorCall(call, 'save') : undefined;
      return save !== undefined && save.cursor.lastError === undefined ? [{ save, requestAt: call.requestAt }] : [];
    });
    // A record the same run sent twice is a re-send of a write whose acknowledgement the run never
    // got (the SDK's request timeout or retry under load): at-least-once, whatever the save did.
    const sentByThisRun = new Set<string>();
    for (const write of mine.filter((call) => call.operation === 'PutRecords' && call.status === 200)) {
      const written = writtenEntries(write);
      for (const entry of written) {
        if (sentByThisRun.has(entry.uuid)) unsaved.set(entry.uuid, (unsaved.get(entry.uuid) ?? 0) + 1);
        sentByThisRun.add(entry.uuid);
      }
      const sourceId = written[0]?.sourceId;
      const savedAfter = saves.some(
        ({ save, requestAt }) => save.sourceId === sourceId && requestAt >= (write.responseAt ?? write.requestAt),
      );
      if (savedAfter) continue;
      for (const entry of written) unsaved.set(entry.uuid, (unsaved.get(entry.uuid) ?? 0) + 1);
    }
  }
  let duplicates = 0;
  const duplicateProblems: string[] = [];
  for (const [uuid, count] of copies) {
    if (count <= 1) continue;
    duplicates += count - 1;
    if (count - 1 > (unsaved.get(uuid) ?? 0))
      duplicateProblems.push(
        `event ${uuid} is in the stream ${count} times, but only ${unsaved.get(uuid) ?? 0} unsaved write(s) of it allow extra copies`,
      );
  }
  const duplicatesAllowed = [...unsaved.values()].reduce((sum, count) => sum + count, 0);
  check(
    'duplicates bounded: an event is delivered again at most once per write of it whose cursor save never happened (abort, lease lost, store error) or that its run re-sent',
    duplicateProblems,
    `${duplicates} duplicates, within the bound of ${duplicatesAllowed} events in writes whose cursor was never saved`,
  );

  // 3. No cursor ever moved backwards.
  const cursorProblems: string[] = [];
  const successfulSaves = calls
    .flatMap((call) => {
      const save = call.status === 200 ? cursorCall(call, 'save') : undefined;
      return save === undefined ? [] : [{ save, responseAt: call.responseAt ?? 0 }];
    })
    .sort((a, b) => a.responseAt - b.responseAt);
  const positions = new Map<string, number>();
  for (const { save } of successfulSaves) {
    const sourceId = save.sourceId;
    const position = pollingPosition(save.cursor.nextUrl);
    if (position === undefined) continue;
    const before = positions.get(sourceId) ?? Number.NEGATIVE_INFINITY;
    if (position < before) cursorProblems.push(`${sourceId}: cursor moved back from storage index ${before} to ${position}`);
    positions.set(sourceId, Math.max(before, position));
  }
  check(
    'no cursor ever moved backwards',
    cursorProblems,
    `${successfulSaves.length} cursor saves observed, each at or after the one before`,
  );

  // 4. No two runs held one source's lease at once.
  results.push(checkLeases(calls, observations));

  // 5. The credential appears in no log line (nor in any record or quarantined event).
  const tokens = input.served.map((org) => org.token);
  const leaks: string[] = [];
  for (const line of observations.lines)
    if (tokens.some((token) => line.line.includes(token))) leaks.push(`${line.container} logged a token`);
  const output = JSON.stringify(input.records) + JSON.stringify(input.quarantined);
  if (tokens.some((token) => output.includes(token))) leaks.push('a token is in the stream or the quarantine');
  check(
    'no credential in any log line, record or quarantined event',
    leaks,
    `${observations.lines.length} log lines searched for ${tokens.length} tokens`,
  );

  // 6. Every injected fault shows in a metric or a log line.
  const { problems: unseen, faults } = checkFaultEvidence(input);
  check(
    'every injected fault shows in a metric or a log line',
    unseen,
    `${Object.values(faults).reduce((sum, count) => sum + count, 0)} faults, each with its evidence`,
  );

  return {
    results,
    summary: { eventsServed, eventsDelivered: input.records.length, lost: lossProblems.length, duplicates, duplicatesAllowed, faults },
  };
}

/** The entries of a PutRecords that Kinesis accepted, with their records decoded. */
function writtenEntries(call: ObservedCall): Array<{ uuid: string; sourceId: string; record: Record<string, unknown> }> {
  const sent = Array.isArray(call.request.Records) ? (call.request.Records as Array<{ PartitionKey?: string; Data?: string }>) : [];
  const answered = Array.isArray(call.response?.Records) ? (call.response?.Records as Array<{ ErrorCode?: string }>) : [];
  return sent.flatMap((entry, index) => {
    if (answered[index]?.ErrorCode !== undefined) return [];
    const record = parseJsonObject(Buffer.from(entry.Data ?? '', 'base64').toString('utf8')) ?? {};
    return [{ uuid: entry.PartitionKey ?? '', sourceId: typeof record.p_source_id === 'string' ? record.p_source_id : '', record }];
  });
}

/**
 * The storage index a polling `next` link continues after. The emulator's `after` is base64url
 * of `<org tag>:p:<index>` (its own documented form, opaque to the puller): the soak may read it
 * because it checks the emulator's cursors, not Okta's.
 */
function pollingPosition(nextUrl: string | undefined): number | undefined {
  if (nextUrl === undefined || !URL.canParse(nextUrl)) return undefined;
  const after = new URL(nextUrl).searchParams.get('after');
  if (after === null) return undefined;
  const match = /:p:(-?\d+)$/.exec(Buffer.from(after, 'base64url').toString('utf8'));
  return match === null ? undefined : Number(match[1]);
}

/**
 * Each lease lasts from its acquisition's answer until it expires, is released (the release's
 * request) or was forced to expire; a later acquisition by another owner must come after that
 * end. Every successful save must come from the owner of the latest acquisition before it.
 */
function checkLeases(calls: readonly ObservedCall[], observations: SoakObservations): InvariantResult {
  const answered = calls.filter((call) => call.status === 200);
  const acquisitions = [
    ...answered.flatMap((call) => {
      const acquire = cursorCall(call, 'acquire');
      return acquire === undefined
        ? []
        : [
            {
              sourceId: acquire.sourceId,
              owner: acquire.owner,
              requestAt: call.requestAt,
              at: call.responseAt ?? call.requestAt,
              expiresAt: acquire.expiresAt,
            },
          ];
    }),
    ...observations.intruderAcquisitions,
  ].sort((a, b) => a.at - b.at);
  const ends = [
    ...answered.flatMap((call) => {
      const release = cursorCall(call, 'release');
      return release === undefined ? [] : [{ sourceId: release.sourceId, owner: release.owner, at: call.requestAt }];
    }),
    ...observations.intruderReleases,
    ...observations.forcedExpiries,
  ];
  const problems: string[] = [];
  for (const [j, next] of acquisitions.entries()) {
    for (const previous of acquisitions.slice(0, j)) {
      if (previous.sourceId !== next.sourceId || previous.owner === next.owner) continue;
      const endedBy = ends
        .filter((end) => end.sourceId === previous.sourceId && end.owner === previous.owner && end.at >= previous.requestAt)
        .map((end) => end.at);
      const end = Math.min(previous.expiresAt, ...endedBy);
      if (end > next.at)
        problems.push(`${next.sourceId}: ${next.owner} took the lease at ${next.at} while ${previous.owner} held it until ${end}`);
    }
  }
  const saves = answered.flatMap((call) => {
    const save = cursorCall(call, 'save');
    return save === undefined ? [] : [{ save, requestAt: call.requestAt }];
  });
  for (const { save, requestAt } of saves) {
    const holder = acquisitions.filter((acquisition) => acquisition.sourceId === save.sourceId && acquisition.at < requestAt).pop();
    if (holder !== undefined && holder.owner !== save.owner)
      problems.push(`${save.sourceId}: ${save.owner} saved the cursor while ${holder.owner} held the lease`);
  }
  return {
    name: 'no two runs held one source’s lease at once, and only the holder saved',
    held: problems.length === 0,
    detail:
      problems.length === 0
        ? `${acquisitions.length} acquisitions and ${saves.length} saves, all exclusive`
        : problems.slice(0, 5).join('; '),
  };
}

function checkFaultEvidence(input: InvariantInput): { problems: string[]; faults: Record<string, number> } {
  const { observations } = input;
  const parsed = observations.lines.map((line) => ({ line, entry: parseJsonObject(line.line) }));
  const pullLogs: PullLog[] = parsed.flatMap(({ line, entry }) =>
    entry !== undefined &&
    (entry.message === 'source pulled' || entry.message === 'source pull failed') &&
    typeof entry.sourceId === 'string'
      ? [
          {
            sourceId: entry.sourceId,
            at: line.at,
            failed: entry.message === 'source pull failed',
            errorKind: typeof entry.errorKind === 'string' ? entry.errorKind : undefined,
            retries: Number(entry.retries ?? 0),
            durationMs: Number(entry.durationMs ?? 0),
          },
        ]
      : [],
  );
  const metrics = parsed.flatMap(({ line, entry }) => (entry !== undefined && '_aws' in entry ? [{ at: line.at, document: entry }] : []));
  // A field of the per-source lines: a per-source value, or EventsInvalid of the quarantine lines.
  const sum = (sourceId: string, name: keyof SourceMetrics | SourceMetricName): number =>
    metrics
      .filter(({ document }) => document[SOURCE_ID_DIMENSION] === sourceId)
      .reduce((total, { document }) => total + (typeof document[name] === 'number' ? (document[name] as number) : 0), 0);
  // A fault met by a run that was then killed has no log of its own: the kill (the Lambda's Errors metric) is its evidence.
  // Until its worker thread has stopped, a killed container may still send Okta requests (its AWS calls are refused).
  // Requests are dated by their arrival at the org: a slow one sent before the kill is answered after the container is gone.
  const killed = observations.invocations.flatMap((invocation) =>
    invocation.killedAt === undefined ? [] : [{ from: invocation.startedAt, to: invocation.deadAt ?? invocation.killedAt }],
  );
  const excused = (time: number): boolean => killed.some((window) => time >= window.from && time <= window.to);

  const faults: Record<string, number> = {};
  const count = (kind: string, times = 1): void => {
    if (times > 0) faults[kind] = (faults[kind] ?? 0) + times;
  };
  const problems: string[] = [];
  for (const org of input.served) {
    const met = org.requests.filter((request) => request.fault !== undefined);
    for (const request of met) count(OKTA_FAULT_NAMES[request.fault as string] ?? `okta-${request.fault}`);
    // The emulator truncates only a page: a truncated-body fault met by a request it refused (a revoked
    // token's 401) is recorded but changes nothing, so there is nothing to show.
    const effective = (request: RequestRecord): boolean => request.fault !== 'truncated-body' || request.status === 200;
    const shown = (names: readonly string[]): number =>
      met.filter((request) => names.includes(request.fault as string) && effective(request) && !excused(request.at)).length;
    const logs = pullLogs.filter((log) => log.sourceId === org.sourceId);

    const rateLimited = shown(['rate-limit', 'concurrency-limit']);
    const rateLimitEvidence =
      sum(org.sourceId, 'RateLimited') + logs.filter((log) => log.errorKind === 'rate-limited').length * RATE_LIMITED_PER_FAILED_PAGE;
    if (rateLimited > rateLimitEvidence)
      problems.push(`${org.sourceId}: ${rateLimited} Okta 429s met, but RateLimited and the logs show only ${rateLimitEvidence}`);

    const transient = shown(['server-error', 'unavailable', 'truncated-body', 'connection-reset']);
    const transientEvidence =
      logs.reduce((total, log) => total + log.retries, 0) +
      logs.filter((log) => log.errorKind === 'unavailable').length * ATTEMPTS_PER_FAILED_PAGE;
    if (transient > transientEvidence)
      problems.push(
        `${org.sourceId}: ${transient} transient Okta failures met, but the logs show only ${transientEvidence} retries or failed pages`,
      );

    // Slow answers are held back by the org's clock, so the pull that met one took at least that long by the same clock.
    const slowThresholdMs =
      observations.applied
        .filter((fault) => fault.kind === 'okta-slow')
        .reduce((least, fault) => Math.min(least, fault.slowMs ?? least), Number.POSITIVE_INFINITY) / 2;
    for (const request of met.filter((each) => each.fault === 'slow' && !excused(each.at))) {
      if (!logs.some((log) => log.at >= request.at && log.durationMs >= slowThresholdMs))
        problems.push(`${org.sourceId}: a slow answer at ${request.at} shows in no pull's durationMs`);
    }

    count('okta-401', org.requests.filter((request) => request.status === 401).length);
    // Each outage lasts until a run has reported it, so one never reported means the soak ended first (or the pipeline hid it).
    for (const outage of observations.outages.filter((each) => each.sourceId === org.sourceId)) {
      if (outageMetAt(outage, observations.lines) === undefined) {
        problems.push(
          outage.kind === 'okta-token-revoked'
            ? `${org.sourceId}: its token was revoked, but no run reported AuthFailures`
            : `${org.sourceId}: its secret was invalid, but no run logged it and counted it in SourceConfigErrors`,
        );
      }
    }
    // EventsInvalid is emitted before each quarantine write, so even a run killed right after the write has counted it.
    const quarantinedInvalid = new Set(
      input.quarantineReceipts
        .filter((each) => each.sourceId === org.sourceId && observations.invalidEventUuids.has(each.uuid))
        .map((each) => each.uuid),
    ).size;
    const counted = sum(org.sourceId, 'EventsInvalid');
    if (counted < quarantinedInvalid)
      problems.push(
        `${org.sourceId}: ${quarantinedInvalid} invalid events are in the quarantine, but EventsInvalid counted only ${counted}`,
      );
  }

  for (const fault of observations.applied) {
    switch (fault.kind) {
      case 'okta-late-events':
      case 'okta-invalid-event':
      case 'okta-token-revoked':
      case 'secret-invalid':
      case 'overlapping-invocation':
        count(fault.kind);
        break;
      case 'secret-relabelled': {
        count(fault.kind);
        // A run that starts once every container's cached copy of the secret has expired must use the new label.
        const stale = recordsWrittenBy(input, (invocation) => invocation.startedAt >= fault.at + observations.secretCacheMs).filter(
          (record) => record.p_source_id === fault.sourceId && !String(record.p_source_label).includes('relabelled'),
        );
        if (stale.length > 0)
          problems.push(
            `${fault.sourceId}: its secret was relabelled, but ${stale.length} records of runs that started later still carry the old label`,
          );
        break;
      }
      case 'lease-race': {
        count(fault.kind);
        const victim = observations.invocations.find((invocation) => invocation.requestId === fault.victim);
        const reported = pullLogs.some((log) => log.sourceId === fault.sourceId && log.errorKind === 'lease-lost' && log.at >= fault.at);
        if (victim?.killedAt === undefined && !reported)
          problems.push(`${fault.sourceId}: a run lost its lease to another, but no log line says lease-lost`);
        break;
      }
      case 'abort-before-write':
      case 'abort-between-write-and-save':
      case 'abort-after-save':
        count(fault.kind);
        break;
      // Counted where they were met instead: in the org's requests (Okta) and by the fault proxies (AWS).
      case 'okta-429':
      case 'okta-concurrency-429':
      case 'okta-5xx':
      case 'okta-5xx-burst':
      case 'okta-503':
      case 'okta-truncated':
      case 'okta-reset':
      case 'okta-slow':
      case 'kinesis-partial':
      case 'kinesis-throttle':
      case 'dynamodb-error':
      case 'dynamodb-throttle':
        break;
    }
  }
  for (const invocation of observations.invocations.filter((each) => each.killedAt !== undefined)) {
    if (invocation.failed === undefined)
      problems.push(`run ${invocation.requestId} was killed, but its invocation did not fail (no Lambda Errors metric)`);
  }
  // The AWS services count these themselves (AWS/Kinesis WriteProvisionedThroughputExceeded, AWS/DynamoDB
  // SystemErrors and ThrottledRequests), which the stack's health alarms watch; the fault proxies are their stand-in.
  count('kinesis-faulted-calls', input.awsFaultCalls.kinesis);
  count('dynamodb-faulted-calls', input.awsFaultCalls.dynamoDb);
  return { problems, faults };
}

/**
 * When a run reported an outage, by the soak clock: a revoked token once a run's metrics counted
 * the 401 in AuthFailures; a broken secret once a run logged it invalid and counted it in
 * SourceConfigErrors (both lines from one container). Undefined while no run has.
 */
export function outageMetAt(outage: Outage, lines: readonly LoggedLine[]): number | undefined {
  const after = lines.filter((line) => line.at >= outage.from).map((line) => ({ line, entry: parseJsonObject(line.line) }));
  if (outage.kind === 'okta-token-revoked') {
    return after.find(
      ({ entry }) => entry !== undefined && '_aws' in entry && entry.SourceId === outage.sourceId && entry.AuthFailures === 1,
    )?.line.at;
  }
  const logged = after.filter(
    ({ entry }) =>
      entry !== undefined && String(entry.message).startsWith('source secret is invalid') && entry.sourceId === outage.sourceId,
  );
  const counted = after.filter(
    ({ entry }) => entry !== undefined && typeof entry.SourceConfigErrors === 'number' && entry.SourceConfigErrors > 0,
  );
  const met = logged.find(({ line }) => counted.some((each) => each.line.container === line.container));
  return met === undefined
    ? undefined
    : Math.max(met.line.at, ...counted.filter((each) => each.line.container === met.line.container).map((each) => each.line.at));
}

/** The records (decoded from the PutRecords the observers saw) written by the invocations `which` selects. */
function recordsWrittenBy(input: InvariantInput, which: (invocation: SoakInvocation) => boolean): Array<Record<string, unknown>> {
  const writes = input.observations.callLists.flat().filter((call) => call.operation === 'PutRecords' && call.status === 200);
  return input.observations.invocations
    .filter(which)
    .flatMap((invocation) => callsOf(invocation, writes).flatMap((call) => writtenEntries(call).map((entry) => entry.record)));
}

/** The calls an invocation made: from its container slot, while it ran. */
function callsOf(invocation: SoakInvocation, calls: readonly ObservedCall[]): ObservedCall[] {
  return calls.filter(
    (call) =>
      call.container === invocation.slot &&
      call.requestAt >= invocation.startedAt &&
      call.requestAt <= (invocation.endedAt ?? Number.POSITIVE_INFINITY),
  );
}
