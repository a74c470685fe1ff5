/**
 * The soak's invariant checks must be able to fail: each is fed a small made-up observation that
 * breaks it (a lost event, a duplicate beyond the bound, a cursor moved back, two lease holders, a
 * leaked token, a fault with no evidence) next to one that keeps it.
 */
import { acquireLeaseUpdate, saveCursorUpdate, type CursorUpdate } from '../../lambdas/contracts/cursor-item';
import { FAULT_KINDS, type FaultKind } from '../../local/soak/fault-plan';
import { checkInvariants, type InvariantInput, type SoakObservations } from '../../local/soak/invariants';
import type { ObservedCall } from '../../local/soak/observer-proxy';

const TOKEN = '00soakTokenThatMustNeverAppear';
const event = (uuid: string) => ({ uuid, published: '2026-01-01T00:00:00.000Z' });
const record = (uuid: string) => ({ uuid, p_source_id: 'acme', p_parse_time: '2026-01-01T00:00:00.000Z', p_source_label: 'acme' });
const nextUrl = (index: number) => `http://127.0.0.1:1/api/v1/logs?after=${Buffer.from(`tag:p:${index}`).toString('base64url')}`;

function call(operation: string, request: Record<string, unknown>, at: number, response: Record<string, unknown> = {}): ObservedCall {
  return { container: 'c1', operation, request, requestAt: at, responseAt: at + 1, status: 200, response };
}
// The cursor store's requests as the DynamoDB adapter sends them: built by the contract's own builders.
const cursorRequest = (update: CursorUpdate): Record<string, unknown> =>
  JSON.parse(JSON.stringify({ TableName: 'cursors', ...update })) as Record<string, unknown>;
const acquire = (owner: string, at: number, expires: number) =>
  call('UpdateItem', cursorRequest(acquireLeaseUpdate('acme', owner, at, expires)), at);
const save = (owner: string, at: number, index: number) =>
  call('UpdateItem', cursorRequest(saveCursorUpdate('acme', owner, { nextUrl: nextUrl(index) }, at)), at);
const write = (uuids: string[], at: number) =>
  call(
    'PutRecords',
    { Records: uuids.map((uuid) => ({ PartitionKey: uuid, Data: Buffer.from(JSON.stringify(record(uuid))).toString('base64') })) },
    at,
    { Records: uuids.map(() => ({ SequenceNumber: '1' })) },
  );

function input(calls: ObservedCall[], overrides: Partial<InvariantInput> = {}, lines: string[] = []): InvariantInput {
  const observations: SoakObservations = {
    lines: lines.map((line) => ({ container: 'c1', stream: 'stdout', line, at: 50 })),
    invocations: [{ requestId: 'run-1', slot: 'c1', startedAt: 0, endedAt: 1000, drain: false }],
    callLists: [calls],
    intruderAcquisitions: [],
    intruderReleases: [],
    forcedExpiries: [],
    applied: [],
    outages: [],
    invalidEventUuids: new Map(),
    secretCacheMs: 60_000,
  };
  return {
    observations,
    records: [record('a'), record('b')],
    served: [{ sourceId: 'acme', events: [event('a'), event('b')], requests: [], token: TOKEN }],
    quarantined: [],
    quarantineReceipts: [],
    awsFaultCalls: { kinesis: 0, dynamoDb: 0 },
    drained: true,
    ...overrides,
  };
}

const held = (result: ReturnType<typeof checkInvariants>, name: RegExp): boolean =>
  result.results.find((each) => name.test(each.name))?.held ?? false;

describe('soak invariants', () => {
  const healthy = [acquire('run-1', 10, 5000), write(['a', 'b'], 20), save('run-1', 30, 5)];

  it('hold for a run that wrote, saved and logged nothing secret', () => {
    const result = checkInvariants(input(healthy, {}, ['{"message":"source pulled","sourceId":"acme","retries":0}']));
    expect(result.results.filter((each) => !each.held)).toEqual([]);
    expect(result.summary).toMatchObject({ eventsServed: 2, eventsDelivered: 2, lost: 0, duplicates: 0 });
  });

  it('catch an event that never reached the stream', () => {
    const result = checkInvariants(input(healthy, { records: [record('a')] }));
    expect(held(result, /every event served/)).toBe(false);
    expect(result.summary.lost).toBe(1);
  });

  it('allow a duplicate only when its first write was never saved', () => {
    const twice = { records: [record('a'), record('b'), record('a')] };
    expect(held(checkInvariants(input(healthy, twice)), /duplicates bounded/)).toBe(false);
    const unsavedFirst = [acquire('run-1', 10, 5000), write(['a'], 20), write(['a', 'b'], 40), save('run-1', 50, 5)];
    const observations = input(unsavedFirst, twice);
    observations.observations.invocations.unshift({
      requestId: 'run-0',
      slot: 'c1',
      startedAt: 15,
      endedAt: 25,
      drain: false,
      killedAt: 25,
    });
    observations.observations.invocations[1] = { requestId: 'run-1', slot: 'c1', startedAt: 30, endedAt: 1000, drain: false };
    expect(held(checkInvariants(observations), /duplicates bounded/)).toBe(true);
  });

  it('allow a copy the same run re-sent (a lost acknowledgement), but not one from a second run that had saved', () => {
    const twice = { records: [record('a'), record('b'), record('a')] };
    const resent = [acquire('run-1', 10, 5000), write(['a', 'b'], 20), write(['a'], 25), save('run-1', 30, 5)];
    expect(held(checkInvariants(input(resent, twice)), /duplicates bounded/)).toBe(true);
    const secondRun = input(
      [acquire('run-1', 10, 5000), write(['a', 'b'], 20), save('run-1', 30, 5), write(['a'], 40), save('run-1', 50, 6)],
      twice,
    );
    secondRun.observations.invocations[0] = { requestId: 'run-1', slot: 'c1', startedAt: 0, endedAt: 35, drain: false };
    secondRun.observations.invocations.push({ requestId: 'run-2', slot: 'c1', startedAt: 36, endedAt: 1000, drain: false });
    expect(held(checkInvariants(secondRun), /duplicates bounded/)).toBe(false);
  });

  it('do not count the save that notes an error as covering a write', () => {
    const noted = call(
      'UpdateItem',
      cursorRequest(saveCursorUpdate('acme', 'run-1', { nextUrl: nextUrl(0), lastError: 'store failed' }, 30)),
      30,
    );
    const twice = { records: [record('a'), record('b'), record('a'), record('b')] };
    expect(held(checkInvariants(input([acquire('run-1', 10, 5000), write(['a', 'b'], 20), noted], twice)), /duplicates bounded/)).toBe(
      true,
    );
    expect(
      held(checkInvariants(input([acquire('run-1', 10, 5000), write(['a', 'b'], 20), save('run-1', 30, 5)], twice)), /duplicates bounded/),
    ).toBe(false);
  });

  it('catch a cursor that moved back', () => {
    expect(held(checkInvariants(input([...healthy, save('run-1', 40, 3)])), /backwards/)).toBe(false);
  });

  it('catch a second holder of an unexpired lease, and a save by a run that no longer held it', () => {
    const result = checkInvariants(input([acquire('run-1', 10, 5000), acquire('run-2', 20, 5000), save('run-1', 30, 5)]));
    expect(held(result, /two runs held/)).toBe(false);
  });

  it('catch a token in a log line', () => {
    expect(held(checkInvariants(input(healthy, {}, [`{"message":"oops ${TOKEN}"}`])), /credential/)).toBe(false);
  });

  it('catch a transient Okta failure that no log shows', () => {
    const requests = [
      { method: 'GET', path: '/api/v1/logs', query: {}, status: 500, authScheme: 'SSWS' as const, at: 15, fault: 'server-error' },
    ];
    const served = [{ sourceId: 'acme', events: [event('a'), event('b')], requests, token: TOKEN }];
    expect(
      held(
        checkInvariants(input(healthy, { served }, ['{"message":"source pulled","sourceId":"acme","retries":0}'])),
        /every injected fault/,
      ),
    ).toBe(false);
    expect(
      held(
        checkInvariants(input(healthy, { served }, ['{"message":"source pulled","sourceId":"acme","retries":1}'])),
        /every injected fault/,
      ),
    ).toBe(true);
  });

  it('catch a quarantined invalid event that EventsInvalid never counted, even when its run was killed right after the write', () => {
    const invalid = (lines: string[]) => {
      const base = input(healthy, { quarantineReceipts: [{ sourceId: 'acme', uuid: 'bad', receivedAt: 40 }] }, lines);
      base.observations.invalidEventUuids.set('bad', 'acme');
      base.observations.invocations[0] = {
        requestId: 'run-1',
        slot: 'c1',
        startedAt: 0,
        endedAt: 60,
        killedAt: 60,
        deadAt: 70,
        failed: 'killed',
        drain: false,
      };
      return base;
    };
    expect(held(checkInvariants(invalid([])), /every injected fault/)).toBe(false);
    expect(held(checkInvariants(invalid([JSON.stringify({ _aws: {}, SourceId: 'acme', EventsInvalid: 1 })])), /every injected fault/)).toBe(
      true,
    );
  });

  it('catch a revoked token or a broken secret that no run ever reported', () => {
    const outage = (kind: 'okta-token-revoked' | 'secret-invalid', lines: string[]) => {
      const base = input(healthy, {}, lines);
      base.observations.outages.push({ kind, sourceId: 'acme', from: 10 });
      return base;
    };
    expect(held(checkInvariants(outage('okta-token-revoked', [])), /every injected fault/)).toBe(false);
    expect(
      held(
        checkInvariants(outage('okta-token-revoked', [JSON.stringify({ _aws: {}, SourceId: 'acme', AuthFailures: 1 })])),
        /every injected fault/,
      ),
    ).toBe(true);
    expect(
      held(
        checkInvariants(outage('secret-invalid', ['{"message":"source secret is invalid; the source is not pulled","sourceId":"acme"}'])),
        /every injected fault/,
      ),
    ).toBe(false);
    const reported = [
      '{"message":"source secret is invalid; the source is not pulled","sourceId":"acme"}',
      JSON.stringify({ _aws: {}, SourceConfigErrors: 1 }),
    ];
    expect(held(checkInvariants(outage('secret-invalid', reported)), /every injected fault/)).toBe(true);
  });

  it('catch the old label in records of a run that started after every cached copy of the relabelled secret expired', () => {
    const relabelled = (label: string, startedAt: number) => {
      const labelled = { ...record('a'), p_source_label: label };
      const base = input([
        acquire('run-1', startedAt + 1, startedAt + 5000),
        call(
          'PutRecords',
          { Records: [{ PartitionKey: 'a', Data: Buffer.from(JSON.stringify(labelled)).toString('base64') }] },
          startedAt + 2,
          { Records: [{ SequenceNumber: '1' }] },
        ),
      ]);
      base.observations.applied.push({ kind: 'secret-relabelled', sourceId: 'acme', at: 0 });
      base.observations.invocations[0] = { requestId: 'run-1', slot: 'c1', startedAt, endedAt: startedAt + 1000, drain: false };
      return base;
    };
    expect(held(checkInvariants(relabelled('acme', 60_000)), /every injected fault/)).toBe(false);
    expect(held(checkInvariants(relabelled('acme (relabelled at 0 s)', 60_000)), /every injected fault/)).toBe(true);
    // A run that started within the cache period may still use the copy it had.
    expect(held(checkInvariants(relabelled('acme', 59_999)), /every injected fault/)).toBe(true);
  });

  it('excuse a transient failure met by a killed run until its container was gone, and no later', () => {
    const served = (at: number) => [
      {
        sourceId: 'acme',
        events: [event('a'), event('b')],
        requests: [{ method: 'GET', path: '/api/v1/logs', query: {}, status: 500, authScheme: 'SSWS' as const, at, fault: 'server-error' }],
        token: TOKEN,
      },
    ];
    const killedRun = (at: number) => {
      const base = input(healthy, { served: served(at) });
      base.observations.invocations[0] = {
        requestId: 'run-1',
        slot: 'c1',
        startedAt: 0,
        endedAt: 50,
        killedAt: 50,
        deadAt: 80,
        failed: 'killed',
        drain: false,
      };
      return base;
    };
    expect(held(checkInvariants(killedRun(70)), /every injected fault/)).toBe(true);
    expect(held(checkInvariants(killedRun(90)), /every injected fault/)).toBe(false);
  });
});

describe('every invariant can fail, and every fault kind is observed', () => {
  const healthy = [acquire('run-1', 10, 5000), write(['a', 'b'], 20), save('run-1', 30, 5)];
  const pulled = '{"message":"source pulled","sourceId":"acme","retries":0}';

  it('each invariant the soak checks fails on one of these planted faults', () => {
    const planted = [
      input(healthy, { records: [record('a')] }),
      input(healthy, { records: [record('a'), record('b'), record('a')] }),
      input([...healthy, save('run-1', 40, 3)]),
      input([acquire('run-1', 10, 5000), acquire('run-2', 20, 5000), save('run-1', 30, 5)]),
      input(healthy, {}, [`{"message":"oops ${TOKEN}"}`]),
      input(
        healthy,
        {
          served: [
            {
              sourceId: 'acme',
              events: [event('a'), event('b')],
              requests: [
                { method: 'GET', path: '/api/v1/logs', query: {}, status: 500, authScheme: 'SSWS', at: 15, fault: 'server-error' },
              ],
              token: TOKEN,
            },
          ],
        },
        [pulled],
      ),
    ];
    const failed = new Set(
      planted.flatMap((observed) =>
        checkInvariants(observed)
          .results.filter((each) => !each.held)
          .map((each) => each.name),
      ),
    );
    const checked = checkInvariants(input(healthy, {}, [pulled])).results.map((each) => each.name);
    expect(checked.filter((name) => !failed.has(name))).toEqual([]);
  });

  /** An Okta request that met an injected fault, as the emulated org records it. */
  const oktaRequest =
    (fault: string, status: number) =>
    (observed: InvariantInput): Partial<InvariantInput> => ({
      served: observed.served.map((org) => ({
        ...org,
        requests: [{ method: 'GET', path: '/api/v1/logs', query: {}, status, authScheme: 'SSWS', at: 15, fault }],
      })),
    });
  const applied =
    (kind: FaultKind) =>
    (observed: InvariantInput): void => {
      observed.observations.applied.push({
        kind,
        sourceId: kind.startsWith('abort-') ? '' : 'acme',
        at: 5,
        ...(kind === 'lease-race' ? { victim: 'run-1' } : {}),
      });
    };
  const awsCalls =
    (service: 'kinesis' | 'dynamoDb') =>
    (observed: InvariantInput): Partial<InvariantInput> => ({ awsFaultCalls: { ...observed.awsFaultCalls, [service]: 1 } });
  /**
   * What each kind leaves in the observations when local/soak/soak.ts applies it, and the name the
   * fault-evidence invariant counts it under. A Record over FaultKind: a new kind does not compile
   * until it says how an invariant observes it.
   */
  const observedAs: Record<FaultKind, { plant: (observed: InvariantInput) => Partial<InvariantInput> | void; counted: string }> = {
    'okta-429': { plant: oktaRequest('rate-limit', 429), counted: 'okta-429' },
    'okta-concurrency-429': { plant: oktaRequest('concurrency-limit', 429), counted: 'okta-concurrency-429' },
    'okta-5xx': { plant: oktaRequest('server-error', 500), counted: 'okta-5xx' },
    'okta-5xx-burst': { plant: oktaRequest('server-error', 500), counted: 'okta-5xx' },
    'okta-503': { plant: oktaRequest('unavailable', 503), counted: 'okta-503' },
    'okta-truncated': { plant: oktaRequest('truncated-body', 200), counted: 'okta-truncated' },
    'okta-reset': { plant: oktaRequest('connection-reset', 0), counted: 'okta-reset' },
    'okta-slow': { plant: oktaRequest('slow', 200), counted: 'okta-slow' },
    'okta-late-events': { plant: applied('okta-late-events'), counted: 'okta-late-events' },
    'okta-invalid-event': { plant: applied('okta-invalid-event'), counted: 'okta-invalid-event' },
    'okta-token-revoked': { plant: applied('okta-token-revoked'), counted: 'okta-token-revoked' },
    'secret-invalid': { plant: applied('secret-invalid'), counted: 'secret-invalid' },
    'secret-relabelled': { plant: applied('secret-relabelled'), counted: 'secret-relabelled' },
    'kinesis-partial': { plant: awsCalls('kinesis'), counted: 'kinesis-faulted-calls' },
    'kinesis-throttle': { plant: awsCalls('kinesis'), counted: 'kinesis-faulted-calls' },
    'dynamodb-error': { plant: awsCalls('dynamoDb'), counted: 'dynamodb-faulted-calls' },
    'dynamodb-throttle': { plant: awsCalls('dynamoDb'), counted: 'dynamodb-faulted-calls' },
    'lease-race': { plant: applied('lease-race'), counted: 'lease-race' },
    'abort-before-write': { plant: applied('abort-before-write'), counted: 'abort-before-write' },
    'abort-between-write-and-save': { plant: applied('abort-between-write-and-save'), counted: 'abort-between-write-and-save' },
    'abort-after-save': { plant: applied('abort-after-save'), counted: 'abort-after-save' },
    'overlapping-invocation': { plant: applied('overlapping-invocation'), counted: 'overlapping-invocation' },
  };

  it.each([...FAULT_KINDS])('%s, once applied, is counted by the fault-evidence invariant (and absent otherwise)', (kind) => {
    const clean = input(healthy, {}, [pulled]);
    expect(checkInvariants(clean).summary.faults[observedAs[kind].counted]).toBeUndefined();
    const base = input(healthy, {}, [pulled]);
    const observed = { ...base, ...(observedAs[kind].plant(base) ?? {}) };
    expect(checkInvariants(observed).summary.faults[observedAs[kind].counted]).toBeGreaterThanOrEqual(1);
  });
});
