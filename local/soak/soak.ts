/**
 * The chaos soak: the whole local pipeline from `startLocalPipeline` (emulated orgs with
 * live traffic, kinesalite, dynalite, the Secrets Manager and S3 stand-ins) with the REAL puller
 * handler in emulated Lambda containers on a one-minute schedule, while faults drawn from the
 * seed hit Okta, AWS and the handler itself. Afterwards the faults stop, the pipeline drains, and
 * the invariants are checked from what was observed (see `invariants.ts`).
 *
 * Time is compressed: one clock, `rate` times faster than wall time, drives the orgs, their
 * traffic and every puller container (leases, run budget, rate-limit waits, backoff, secret
 * cache, slow Okta answers), so a simulated minute takes 60/rate seconds. What stays on real
 * time: HTTP timeouts and the Lambda timeout (90 s, never reached).
 *
 * The verdict must not depend on how fast the machine is: the seed fixes the faults, and each
 * one lasts until the pipeline has met it (queued Okta and AWS faults until a request takes them,
 * a revoked token until a run reported the 401, a broken secret until a run reported it, an abort
 * until a run reached its point), however late that happens; the drain then runs until every
 * source has caught up. A slow machine makes the soak longer, not different.
 *
 * Each puller container gets its own observer proxies in front of Kinesis and DynamoDB, so every
 * call is attributed to the run that made it, and runs can be killed at exact points. A killed
 * container's proxies answer nothing from the moment of the kill: a killed Lambda makes no more
 * calls, even if the worker thread that stands in for it takes a moment to stop.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { DynamoDbCursorStore } from '../../lambdas/adapters/aws/dynamodb-cursor-store';
import { UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { expireLeaseUpdate } from '../../lambdas/contracts/cursor-item';
import { SOURCE_SECRET_FIELD } from '../../lambdas/contracts/source-secret';
import type { Clock } from '../../lambdas/core/ports';
import type { SecretFileEntry } from '../aws/secrets-manager-server';
import { startLambdaContainer, startLocalPipeline, type LambdaContainer, type LambdaLogLine, type LocalPipeline } from '../runtime';
import { SCALED_CLOCK_ENV, scaledClock, type ScaledClockSpec } from '../runtime/scaled-clock';
import { planFaults, seededRandom, type FaultKind, type PlannedFault } from './fault-plan';
import type { SimpleFault } from '../okta-emulator/faults';
import {
  checkInvariants,
  outageMetAt,
  type AbortKind,
  type InvariantResult,
  type InvariantSummary,
  type Outage,
  type SoakInvocation,
  type SoakObservations,
} from './invariants';
import { parseJsonObject } from '../../lambdas/core/json';
import { cursorCall } from './calls';
import { startObserverProxy, type ObservedCall, type ObserverProxy } from './observer-proxy';

/** Every bound of the soak, with the reason for its value. */
export const SOAK_DEFAULTS = {
  /**
   * Simulated ms per real ms. At 30 a simulated minute takes 2 s: a run (55 s budget) still has
   * ~1.8 s of real time for its few loopback requests, and a 5-minute soak stays well under a
   * minute of CPU on two cores.
   */
  rate: 30,
  /**
   * Simulated ms between scheduled invocations. Four a minute instead of EventBridge's one: faults
   * armed within a minute meet runs within that minute, and runs overlap more often.
   */
  scheduleEveryMs: 15_000,
  /** The puller's own budget and the stack's Lambda timeout: the soak runs the defaults. */
  runBudgetSeconds: 55,
  /** One simulated minute, instead of ten: a secret edit must reach the runs within the soak. */
  secretCacheSeconds: 60,
  /** How long a lease-race intruder holds the lease it took over, simulated ms. */
  intruderHoldMs: 20_000,
  /** Simulated ms between drain runs: past a killed run's lease (95 s) within a few rounds. */
  drainIntervalMs: 30_000,
  /**
   * Drain runs that fetched something before giving up on catching up (at 30 s each, 20 simulated
   * minutes). Runs that could not fetch a page within their budget (a machine too busy for the
   * clock's rate) do not count: they make the drain longer, not failed.
   */
  maxDrainRuns: 40,
  /** Drain runs in all, however starved: the soak must end even on a machine that never keeps up. */
  maxStarvedDrainRuns: 400,
  /**
   * Simulated ms a slow Okta answer is held back (by the org's clock, so it is the same at any
   * rate and on any machine): long against loopback, short against the run budget.
   */
  slowAnswerMs: { min: 4_500, max: 18_000 },
} as const;

/** The planned faults that are `times` failed answers of one kind from the org's emulator. */
const OKTA_ANSWER_FAULTS = {
  'okta-429': 'rate-limit',
  'okta-5xx': 'server-error',
  'okta-503': 'unavailable',
  'okta-truncated': 'truncated-body',
  'okta-reset': 'connection-reset',
} as const satisfies Partial<Record<FaultKind, SimpleFault>>;

/** The answer Kinesis and DynamoDB give a throttled `operation` (both name the error the same). */
const throttled = (operation: string) =>
  ({ kind: 'error', operation, status: 400, type: 'ProvisionedThroughputExceededException' }) as const;

/** The orgs of the soak: different sizes and limits, one small enough to sit at its rate-limit reserve. */
const SOURCES = [
  { sourceId: 'acme', eventsPerMinute: 240, rateLimitPerMinute: 120 },
  { sourceId: 'globex', eventsPerMinute: 90, rateLimitPerMinute: 10 },
  { sourceId: 'initech', eventsPerMinute: 150, rateLimitPerMinute: 60 },
] as const;

export interface SoakOptions {
  readonly minutes: number;
  readonly seed: number;
  /** @default SOAK_DEFAULTS.rate */
  readonly rate?: number;
  /** One line per simulated minute and phase. */
  readonly onProgress?: (line: string) => void;
}

export interface SoakReport extends InvariantSummary {
  readonly minutes: number;
  readonly seed: number;
  readonly rate: number;
  /** Real seconds the soak took. */
  readonly realSeconds: number;
  /** Where the Lambda logs (`soak.log`) and the secrets file are kept. */
  readonly workDir: string;
  readonly invocations: { total: number; aborted: number; failed: number; drain: number };
  readonly invariants: readonly InvariantResult[];
  readonly invariantsHeld: boolean;
}

/** One emulated Lambda environment and the observers that only it uses. */
interface Instance {
  readonly container: LambdaContainer;
  readonly kinesis: ObserverProxy;
  readonly dynamoDb: ObserverProxy;
  /** Killed by the soak: every call it still makes is dropped, as a dead Lambda makes none. */
  condemned: boolean;
}

/** A container slot: one environment at a time (a new one after a kill), attributed by the slot's name. */
interface Slot {
  readonly name: string;
  instance?: Instance;
  /** Taken by an invocation (set before any await, so two invocations never share a slot). */
  busy: boolean;
  current?: SoakInvocation;
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const rate = options.rate ?? SOAK_DEFAULTS.rate;
  const progress = options.onProgress ?? (() => undefined);
  const realStart = Date.now();
  const spec: ScaledClockSpec = { originMs: realStart, realStartMs: realStart, rate };
  const clock = scaledClock(spec);
  const random = seededRandom(options.seed ^ 0x5eed);
  const plan = planFaults(options.seed, options.minutes, SOURCES.length);

  const observations: SoakObservations = {
    lines: [],
    invocations: [],
    callLists: [],
    intruderAcquisitions: [],
    intruderReleases: [],
    forcedExpiries: [],
    applied: [],
    outages: [],
    invalidEventUuids: new Map(),
    secretCacheMs: SOAK_DEFAULTS.secretCacheSeconds * 1000,
  };
  const onLogLine = (line: LambdaLogLine): void => {
    observations.lines.push({ ...line, at: clock.now() });
  };

  const pipeline = await startLocalPipeline({
    sources: SOURCES.map((source, index) => ({ ...source, seed: options.seed * 10 + index + 1 })),
    clock,
    runBudgetSeconds: SOAK_DEFAULTS.runBudgetSeconds,
    onLogLine,
  });
  const timers = new Set<NodeJS.Timeout>();
  const pending = new Set<Promise<unknown>>();
  const track = <T>(promise: Promise<T>): Promise<T> => {
    pending.add(promise);
    void promise.finally(() => pending.delete(promise)).catch(() => undefined);
    return promise;
  };
  /** Runs `action` at simulated time `at` (real timers, scaled). */
  const at = (time: number, action: () => Promise<void> | void): void => {
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        void track(Promise.resolve().then(action));
      },
      Math.max(0, (time - clock.now()) / rate),
    );
    timers.add(timer);
  };

  const harness = new Harness(pipeline, clock, spec, observations, onLogLine, random);
  try {
    const start = clock.now();
    let chaos = true;

    for (let minute = 0; minute < options.minutes; minute += 1) {
      const tick = start + minute * 60_000;
      await clock.sleep(tick - clock.now());
      for (const fault of plan.filter((planned) => planned.minute === minute)) {
        at(tick + fault.atMs, () => (chaos ? harness.apply(fault) : undefined));
      }
      for (let offset = 0; offset < 60_000; offset += SOAK_DEFAULTS.scheduleEveryMs)
        at(tick + offset, () => harness.invoke(false).then(() => undefined));
      const writes = observations.callLists.flat().filter((call) => call.operation === 'PutRecords').length;
      progress(
        `minute ${minute + 1}/${options.minutes} (simulated): ${observations.invocations.length} invocations so far, ${writes} PutRecords calls, ${observations.applied.length} faults applied`,
      );
    }
    await clock.sleep(start + options.minutes * 60_000 - clock.now());

    chaos = false;
    progress('faults stopped; draining');
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    harness.endChaos();
    while (pending.size > 0) await Promise.allSettled([...pending]);
    // A token still revoked or a secret still broken stays so until a drain run has met it.
    const drained = await harness.drain();
    progress(drained ? 'drained: every source caught up' : 'drain gave up before every source caught up');

    // Every line every container logged, for a person reading a failed soak (the tokens are fake).
    writeFileSync(
      join(pipeline.workDir, 'soak.log'),
      observations.lines.map((line) => `${line.at} ${line.container} ${line.stream} ${line.line}\n`).join(''),
      { mode: 0o600 },
    );
    const records = (await pipeline.readStream()).map((record) => JSON.parse(record.data.toString('utf8')) as Record<string, unknown>);
    const served = pipeline.orgs.map((org) => ({
      sourceId: org.sourceId,
      events: org.org.storedEvents(),
      requests: org.org.requests,
      token: org.org.apiToken,
    }));
    const invariants = checkInvariants({
      observations,
      records,
      served,
      quarantined: pipeline.quarantined(),
      quarantineReceipts: [...pipeline.aws.s3.objects(pipeline.aws.names.quarantineBucketName).values()].map((object) => {
        const body = JSON.parse(object.body.toString('utf8')) as { sourceId: string; receivedAt: string; event: { uuid?: unknown } };
        return { sourceId: body.sourceId, uuid: String(body.event?.uuid), receivedAt: Date.parse(body.receivedAt) };
      }),
      awsFaultCalls: {
        kinesis: pipeline.aws.kinesisProxy.calls.filter((call) => call.fault !== undefined).length,
        dynamoDb: pipeline.aws.dynamoDbProxy.calls.filter((call) => call.fault !== undefined).length,
      },
      drained,
    });
    const summary = invariants.summary;
    return {
      minutes: options.minutes,
      seed: options.seed,
      rate,
      realSeconds: Math.round((Date.now() - realStart) / 100) / 10,
      workDir: pipeline.workDir,
      eventsServed: summary.eventsServed,
      eventsDelivered: summary.eventsDelivered,
      lost: summary.lost,
      duplicates: summary.duplicates,
      duplicatesAllowed: summary.duplicatesAllowed,
      faults: summary.faults,
      invocations: {
        total: observations.invocations.length,
        aborted: observations.invocations.filter((invocation) => invocation.killedAt !== undefined).length,
        failed: observations.invocations.filter((invocation) => invocation.failed !== undefined).length,
        drain: observations.invocations.filter((invocation) => invocation.drain).length,
      },
      invariants: invariants.results,
      invariantsHeld: invariants.results.every((result) => result.held),
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    await Promise.allSettled([...pending]);
    await harness.close();
    await pipeline.stop();
  }
}

/** Everything the soak does to the pipeline while it runs. */
class Harness {
  private readonly slots: Slot[] = [];
  private readonly proxies: ObserverProxy[] = [];
  private readonly pendingAborts: AbortKind[] = [];
  private leaseRaces = 0;
  private readonly releaseTimers = new Set<NodeJS.Timeout>();
  private invocationCount = 0;
  /** Kills in progress, by invocation: an invocation ends only once its container is gone. */
  private readonly deaths = new Map<SoakInvocation, Promise<void>>();
  private readonly cursors: DynamoDbCursorStore;

  constructor(
    private readonly pipeline: LocalPipeline,
    private readonly clock: Clock,
    private readonly spec: ScaledClockSpec,
    private readonly observations: SoakObservations,
    private readonly onLogLine: (line: LambdaLogLine) => void,
    private readonly random: () => number,
  ) {
    this.cursors = new DynamoDbCursorStore({ client: pipeline.aws.clients.dynamoDb, tableName: pipeline.aws.names.cursorTableName, clock });
  }

  /** Kills the soak's containers and closes their observers. */
  async close(): Promise<void> {
    for (const timer of this.releaseTimers) clearTimeout(timer);
    await Promise.all(this.slots.flatMap((slot) => (slot.instance === undefined ? [] : [slot.instance.container.kill('the soak ended')])));
    await Promise.all(this.proxies.map((proxy) => proxy.close()));
  }

  /** One scheduled invocation on a free container (a new one when all are busy, as Lambda scales out). */
  async invoke(drain: boolean): Promise<SoakInvocation> {
    let slot = this.slots.find((candidate) => !candidate.busy);
    if (slot === undefined) {
      slot = { name: `soak-puller-${this.slots.length + 1}`, busy: true };
      this.slots.push(slot);
    }
    slot.busy = true;
    try {
      if (slot.instance === undefined || !slot.instance.container.alive) slot.instance = await this.startInstance(slot);
      return await this.run(slot, slot.instance, drain);
    } finally {
      slot.busy = false;
    }
  }

  private async run(slot: Slot, instance: Instance, drain: boolean): Promise<SoakInvocation> {
    this.invocationCount += 1;
    const invocation: SoakInvocation = {
      requestId: `soak-run-${this.invocationCount}-${randomUUID().slice(0, 8)}`,
      slot: slot.name,
      startedAt: this.clock.now(),
      drain,
    };
    const abort = this.pendingAborts.shift();
    if (abort !== undefined) invocation.abort = abort;
    slot.current = invocation;
    this.observations.invocations.push(invocation);
    try {
      await this.pipeline.runPuller({ container: instance.container, requestId: invocation.requestId });
    } catch (error) {
      invocation.failed = error instanceof Error ? error.message : String(error);
    } finally {
      await this.deaths.get(invocation);
      invocation.endedAt = this.clock.now();
      // A run that never reached its abort point (nothing to write) hands the abort to the next run.
      if (abort !== undefined && invocation.killedAt === undefined) this.pendingAborts.push(abort);
      slot.current = undefined;
      this.settleOutages();
    }
    return invocation;
  }

  /** Applies one planned fault now; outages end when met (settleOutages). */
  async apply(fault: PlannedFault): Promise<void> {
    const { org, sourceId } = this.pipeline.orgs[fault.source] as LocalPipeline['orgs'][number];
    const now = this.clock.now();
    const note = (kind: FaultKind, detail: Record<string, unknown> = {}): void => {
      this.observations.applied.push({ kind, sourceId, at: now, ...detail });
    };
    switch (fault.kind) {
      case 'okta-429':
      case 'okta-5xx':
      case 'okta-503':
      case 'okta-truncated':
      case 'okta-reset':
        org.inject(OKTA_ANSWER_FAULTS[fault.kind], fault.times);
        return note(fault.kind);
      case 'okta-concurrency-429':
        org.inject('concurrency-limit', 1);
        return note(fault.kind);
      case 'okta-5xx-burst':
        // More than the client's four attempts: the page fails and the source's run with it.
        org.inject('server-error', 5);
        return note(fault.kind);
      case 'okta-slow': {
        const span = SOAK_DEFAULTS.slowAnswerMs.max - SOAK_DEFAULTS.slowAnswerMs.min;
        const ms = SOAK_DEFAULTS.slowAnswerMs.min + Math.floor(this.random() * span);
        org.inject({ kind: 'slow', ms, via: 'clock' }, 1);
        return note(fault.kind, { slowMs: ms });
      }
      case 'okta-late-events': {
        // Published ten minutes ago but stored now, and a batch stored half a minute from now.
        org.generate(5 * fault.times, { lateFraction: 1 });
        org.generate(3 * fault.times, { storedAt: now + 30_000, at: now - 120_000 });
        return note(fault.kind);
      }
      case 'okta-invalid-event': {
        const [template] = org.generate(1);
        const uuid = `soak-invalid-${randomUUID()}`;
        const invalid: Record<string, unknown> = { ...template, uuid };
        delete invalid.eventType;
        org.addEvents([invalid]);
        this.observations.invalidEventUuids.set(uuid, sourceId);
        return note(fault.kind);
      }
      case 'okta-token-revoked':
        // Revoked until a run has reported the 401 (settleOutages); each revocation needs a report made after it.
        org.revokeToken();
        this.observations.outages.push({ kind: 'okta-token-revoked', sourceId, from: now });
        return note(fault.kind);
      case 'secret-invalid':
        // Broken until a run has reported it (settleOutages).
        this.editSecret(sourceId, (secret) => ({ ...secret, [SOURCE_SECRET_FIELD.dropOffMinutes]: 'sixty' }));
        this.observations.outages.push({ kind: 'secret-invalid', sourceId, from: now });
        return note(fault.kind);
      case 'secret-relabelled':
        this.editSecret(sourceId, (secret) => ({
          ...secret,
          [SOURCE_SECRET_FIELD.label]: `${sourceId} (relabelled at ${Math.round((now - this.spec.originMs) / 1000)} s)`,
        }));
        return note(fault.kind);
      case 'kinesis-partial':
        this.pipeline.aws.kinesisProxy.inject({ kind: 'kinesis-partial', failEntry: (index) => index % 2 === 0 }, fault.times);
        return note(fault.kind);
      case 'kinesis-throttle':
        this.pipeline.aws.kinesisProxy.inject(throttled('PutRecords'), fault.times);
        return note(fault.kind);
      case 'dynamodb-error':
        this.pipeline.aws.dynamoDbProxy.inject(
          { kind: 'error', operation: 'UpdateItem', status: 500, type: 'InternalServerError' },
          fault.times + 1,
        );
        return note(fault.kind);
      case 'dynamodb-throttle':
        this.pipeline.aws.dynamoDbProxy.inject(throttled('UpdateItem'), fault.times);
        return note(fault.kind);
      case 'lease-race':
        // Happens at the next cursor save of any run: noted then, with the source it hit.
        this.leaseRaces += 1;
        return;
      case 'abort-before-write':
      case 'abort-between-write-and-save':
      case 'abort-after-save':
        this.pendingAborts.push(fault.kind);
        await this.invoke(false);
        return;
      case 'overlapping-invocation':
        note(fault.kind);
        await Promise.all([this.invoke(false), this.invoke(false)]);
        return;
    }
  }

  /**
   * No new faults and no new events. Faults already armed (queued Okta and AWS faults, aborts,
   * lease races) stay armed: the drain runs meet them, and must still catch up.
   */
  endChaos(): void {
    for (const org of this.pipeline.orgs) org.stopTraffic();
  }

  /**
   * Ends every outage a run has met: the token comes back once a run reported its 401 in
   * AuthFailures, the secret is repaired once a run logged it invalid and counted it in
   * SourceConfigErrors. Labels keep their last edit: that is not a fault.
   */
  private settleOutages(): void {
    const open = this.observations.outages.filter((outage) => outage.until === undefined);
    if (open.length === 0) return;
    for (const outage of open) {
      if (outageMetAt(outage, this.observations.lines) !== undefined) outage.until = this.clock.now();
    }
    for (const outage of open.filter((each) => each.until !== undefined)) {
      const still = this.observations.outages.some(
        (other) => other.until === undefined && other.kind === outage.kind && other.sourceId === outage.sourceId,
      );
      if (still) continue;
      if (outage.kind === 'okta-token-revoked') this.orgOf(outage).restoreToken();
      else this.editSecret(outage.sourceId, (secret) => ({ ...secret, [SOURCE_SECRET_FIELD.dropOffMinutes]: 60 }));
    }
  }

  private orgOf(outage: Outage): LocalPipeline['orgs'][number]['org'] {
    const found = this.pipeline.orgs.find((org) => org.sourceId === outage.sourceId);
    if (found === undefined) throw new Error(`soak: no org ${outage.sourceId}`);
    return found.org;
  }

  /**
   * Runs the puller until a run finds every source caught up with nothing new (after the last
   * event stored in the future has arrived, killed runs' leases have expired and every outage
   * has been met). Runs starved of CPU (nothing fetched before their budget ran out) do not use
   * up the drain: a slow machine drains longer, it does not fail.
   */
  async drain(): Promise<boolean> {
    let counted = 0;
    for (let round = 0; round < SOAK_DEFAULTS.maxStarvedDrainRuns && counted < SOAK_DEFAULTS.maxDrainRuns; round += 1) {
      await this.clock.sleep(SOAK_DEFAULTS.drainIntervalMs);
      this.settleOutages();
      const invocation = await this.invoke(true);
      const lines = this.observations.lines.filter(
        (line) => line.container === invocation.slot && line.at >= invocation.startedAt && line.at <= (invocation.endedAt ?? Infinity),
      );
      const pulled = lines
        .map((line) => parseJsonObject(line.line))
        .filter((entry) => entry?.message === 'source pulled' || entry?.message === 'source pull failed');
      const quiet =
        pulled.length === this.pipeline.orgs.length && pulled.every((entry) => entry?.outcome === 'caught-up' && entry.delivered === 0);
      if (quiet && invocation.failed === undefined) return true;
      const starved =
        invocation.killedAt === undefined &&
        pulled.length > 0 &&
        pulled.every((entry) => entry?.outcome === 'deadline' && entry.pages === 0 && entry.rateLimitWaits === 0);
      if (!starved) counted += 1;
    }
    return false;
  }

  private editSecret(sourceId: string, change: (secret: Record<string, unknown>) => Record<string, unknown>): void {
    const entries = JSON.parse(readFileSync(this.pipeline.secretsFile, 'utf8')) as SecretFileEntry[];
    const edited = entries.map((entry) =>
      entry.Name.endsWith(`/${sourceId}`)
        ? { ...entry, SecretString: JSON.stringify(change(JSON.parse(entry.SecretString) as Record<string, unknown>)) }
        : entry,
    );
    writeFileSync(this.pipeline.secretsFile, `${JSON.stringify(edited, null, 2)}\n`, { mode: 0o600 });
  }

  /** A cold puller container for `slot`, with observers of its own. */
  private async startInstance(slot: Slot): Promise<Instance> {
    const state = { condemned: false };
    const hooks = {
      beforeForward: (call: ObservedCall) => (state.condemned ? Promise.resolve<'drop'>('drop') : this.beforeForward(slot, call)),
      afterResponse: (call: ObservedCall) => (state.condemned ? Promise.resolve<'drop'>('drop') : this.afterResponse(slot, call)),
    };
    const kinesis = await startObserverProxy({
      container: slot.name,
      target: this.pipeline.aws.kinesisProxy.endpoint,
      clock: this.clock,
      hooks,
    });
    const dynamoDb = await startObserverProxy({
      container: slot.name,
      target: this.pipeline.aws.dynamoDbProxy.endpoint,
      clock: this.clock,
      hooks,
    });
    this.proxies.push(kinesis, dynamoDb);
    this.observations.callLists.push(kinesis.calls, dynamoDb.calls);
    const container = await startLambdaContainer({
      kind: 'puller',
      name: slot.name,
      env: {
        ...this.pipeline.env,
        POWERTOOLS_SERVICE_NAME: 'okta-log-pipeline-puller',
        RUN_BUDGET_SECONDS: String(SOAK_DEFAULTS.runBudgetSeconds),
        SECRET_CACHE_SECONDS: String(SOAK_DEFAULTS.secretCacheSeconds),
        // As the local runtime's own puller containers: the emulated orgs live on loopback.
        OKTA_LOG_PIPELINE_ALLOW_LOOPBACK: '1',
        AWS_ENDPOINT_URL_KINESIS: kinesis.endpoint,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoDb.endpoint,
        [SCALED_CLOCK_ENV]: JSON.stringify(this.spec),
      },
      timeoutMs: 90_000,
      onLogLine: this.onLogLine,
    });
    return Object.assign(state, { container, kinesis, dynamoDb });
  }

  private async beforeForward(slot: Slot, call: ObservedCall): Promise<'continue' | 'drop'> {
    const invocation = slot.current;
    if (invocation === undefined) return 'continue';
    if (call.operation === 'PutRecords' && invocation.abort === 'abort-before-write' && invocation.killedAt === undefined) {
      this.kill(slot, invocation);
      return 'drop';
    }
    // Only a save that advances the cursor: the one that notes a failure swallows a lost lease by design.
    const save = cursorCall(call, 'save');
    if (save !== undefined && save.cursor.lastError === undefined && this.leaseRaces > 0) {
      this.leaseRaces -= 1;
      await this.raceLease(save.sourceId, save.owner);
    }
    return 'continue';
  }

  private async afterResponse(slot: Slot, call: ObservedCall): Promise<'continue' | 'drop'> {
    const invocation = slot.current;
    if (invocation === undefined || invocation.killedAt !== undefined || call.status !== 200) return 'continue';
    const betweenWriteAndSave = call.operation === 'PutRecords' && invocation.abort === 'abort-between-write-and-save';
    const afterSave = cursorCall(call, 'save') !== undefined && invocation.abort === 'abort-after-save';
    if (!betweenWriteAndSave && !afterSave) return 'continue';
    this.kill(slot, invocation);
    return 'drop';
  }

  /** From now on the container's calls are refused; it is dead once its worker thread has stopped. */
  private kill(slot: Slot, invocation: SoakInvocation): void {
    const instance = slot.instance;
    if (instance === undefined) return;
    instance.condemned = true;
    invocation.killedAt = this.clock.now();
    this.observations.applied.push({ kind: invocation.abort as FaultKind, sourceId: '', at: invocation.killedAt });
    this.deaths.set(
      invocation,
      instance.container.kill(`soak: ${invocation.abort ?? 'abort'}`).then(() => {
        invocation.deadAt = this.clock.now();
      }),
    );
  }

  /**
   * The run about to save has overrun its lease (as a frozen or very slow run would), and another
   * run has taken the source over: the save must then fail and the cursor stay where the new
   * holder found it.
   */
  private async raceLease(sourceId: string, owner: string): Promise<void> {
    const expiredAt = this.clock.now();
    try {
      await this.pipeline.aws.clients.dynamoDb.send(
        new UpdateItemCommand({ TableName: this.pipeline.aws.names.cursorTableName, ...expireLeaseUpdate(sourceId, owner, expiredAt - 1) }),
      );
    } catch {
      // The run lost its lease already (released or expired): there is nothing left to race.
      return;
    }
    this.observations.forcedExpiries.push({ sourceId, owner, at: expiredAt });
    const intruder = `soak-intruder-${randomUUID().slice(0, 8)}`;
    const requestAt = this.clock.now();
    const acquired = await this.cursors.acquire(sourceId, intruder, SOAK_DEFAULTS.intruderHoldMs * 10);
    if (acquired === undefined) return;
    this.observations.intruderAcquisitions.push({
      sourceId,
      owner: intruder,
      requestAt,
      at: this.clock.now(),
      expiresAt: requestAt + SOAK_DEFAULTS.intruderHoldMs * 10,
    });
    this.observations.applied.push({ kind: 'lease-race', sourceId, at: requestAt, victim: owner });
    const releaseAt = this.clock.now() + SOAK_DEFAULTS.intruderHoldMs;
    const timer = setTimeout(
      () => {
        this.releaseTimers.delete(timer);
        this.observations.intruderReleases.push({ sourceId, owner: intruder, at: this.clock.now() });
        void this.cursors.release(sourceId, intruder).catch(() => undefined);
      },
      (releaseAt - this.clock.now()) / this.spec.rate,
    );
    this.releaseTimers.add(timer);
  }
}
