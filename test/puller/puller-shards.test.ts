import fc from 'fast-check';
import type { EmfDocument } from '../../lambdas/core/metrics/emf';
import type { PullSummary } from '../../lambdas/core/pull/pull-source';
import type { SourceConfig, SourceProblem } from '../../lambdas/core/ports';
import { runPuller, type PullerDependencies } from '../../lambdas/core/puller/run-puller';
import {
  fnv1a32,
  inShard,
  MAX_PULLER_SHARDS,
  parsePullerInput,
  PullerInputError,
  shardOfSource,
  SINGLE_SHARD,
  type PullerShard,
} from '../../lambdas/core/puller/shard';
import { createPullerHandler } from '../../lambdas/puller/handler';
import { lambdaContext } from '../../local/runtime/lambda-context';
import { namedSource } from '../support/fakes';
import { VirtualClock } from '../support/virtual-clock';

function source(id: string, enabled = true): SourceConfig {
  return namedSource(id, { enabled });
}

interface ShardRun {
  pulled: string[];
  documents: EmfDocument[];
  /** What the registry's `include` answered for every id it was offered. */
  included: string[];
  disabled: string[];
  problems: string[];
}

/** One invocation of `shard` over a registry holding `sources` and `problems`. */
async function runShard(sources: SourceConfig[], problems: SourceProblem[], shard: PullerShard | undefined): Promise<ShardRun> {
  const pulled: string[] = [];
  const documents: EmfDocument[] = [];
  const included: string[] = [];
  const ignore = (): void => undefined;
  const deps: PullerDependencies = {
    registry: {
      list: async (include) => {
        included.push(
          ...[...sources.map((s) => s.id), ...problems.map((p) => p.sourceId)].filter((id) => include === undefined || include(id)),
        );
        // Hands out everything, like a registry that ignores `include`: the run must still filter.
        return { sources, problems };
      },
      refresh: async () => ({ status: 'unavailable' }),
    },
    activity: { activity: async () => new Map() },
    pull: async (config): Promise<PullSummary> => {
      pulled.push(config.id);
      return { sourceId: config.id, outcome: 'caught-up', pages: 1, delivered: 0, invalid: 0, rateLimitWaits: 0, rateLimitWaitMs: 0 };
    },
    clock: new VirtualClock(),
    logger: { info: ignore, warn: ignore, error: ignore },
    emitMetrics: (document) => documents.push(document),
  };
  const report = await runPuller(deps, { invocationId: `run-${shard?.index ?? 'all'}`, shard });
  return { pulled, documents, included, disabled: report.disabled, problems: report.problems.map((problem) => problem.sourceId) };
}

const sourceId = fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,62}$/);

describe('shardOfSource', () => {
  it('is 32-bit FNV-1a of the UTF-8 bytes (published test vectors), so the assignment never drifts between releases', () => {
    expect(fnv1a32('')).toBe(0x811c9dc5);
    expect(fnv1a32('a')).toBe(0xe40c292c);
    expect(fnv1a32('foobar')).toBe(0xbf9cf968);
    expect(shardOfSource('foobar', 7)).toBe(0xbf9cf968 % 7);
  });

  it('is deterministic and within [0, shards) for any id and shard count', () => {
    fc.assert(
      fc.property(sourceId, fc.integer({ min: 1, max: MAX_PULLER_SHARDS }), (id, shards) => {
        const shard = shardOfSource(id, shards);
        expect(Number.isInteger(shard) && shard >= 0 && shard < shards).toBe(true);
        expect(shardOfSource(id, shards)).toBe(shard);
        expect(inShard(id, { index: shard, count: shards })).toBe(true);
      }),
    );
  });

  it('spreads 500 similar ids evenly: no shard of 4 gets more than 30 % of them', () => {
    const counts = [0, 0, 0, 0];
    for (let n = 1; n <= 500; n += 1) counts[shardOfSource(`acme-${n}`, 4)] += 1;
    for (const count of counts) expect(count).toBeGreaterThan(90);
    for (const count of counts) expect(count).toBeLessThan(150);
  });
});

describe('runPuller with shards', () => {
  it("pulls, and emits metrics for, exactly its shard's sources; the shards together cover every source exactly once", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(sourceId, { maxLength: 40 }),
        fc.integer({ min: 1, max: MAX_PULLER_SHARDS }),
        fc.func(fc.integer({ min: 0, max: 4 })),
        async (ids, shards, kindOf) => {
          // Every id is an enabled source, a disabled one or a broken secret.
          const kinds = new Map(ids.map((id) => [id, kindOf(id)]));
          const sources = ids.filter((id) => kinds.get(id) !== 0).map((id) => source(id, kinds.get(id) !== 1));
          const problems = ids.filter((id) => kinds.get(id) === 0).map((id) => ({ sourceId: id, message: `source ${id}: invalid secret` }));
          const enabled = sources.filter((s) => s.enabled).map((s) => s.id);

          const runs = await Promise.all(
            Array.from({ length: shards }, (_, index) => runShard(sources, problems, { index, count: shards })),
          );

          runs.forEach((run, index) => {
            const mine = (id: string): boolean => shardOfSource(id, shards) === index;
            expect(run.pulled.every(mine)).toBe(true);
            expect(run.included.every(mine)).toBe(true);
            const perSource = run.documents
              .filter((document) => typeof document.SourceId === 'string')
              .map((document) => document.SourceId as string);
            expect(perSource.sort()).toEqual([...run.pulled].sort());
            const runWide = run.documents.filter((document) => document.SourceId === undefined);
            expect(runWide).toEqual([
              expect.objectContaining({ SourcesPulled: run.pulled.length, SourceConfigErrors: run.problems.length }),
            ]);
          });
          const all = <T>(pick: (run: ShardRun) => T[]): T[] => runs.flatMap(pick).sort();
          expect(all((run) => run.pulled)).toEqual([...enabled].sort());
          expect(all((run) => run.disabled)).toEqual(
            sources
              .filter((s) => !s.enabled)
              .map((s) => s.id)
              .sort(),
          );
          expect(all((run) => run.problems)).toEqual(problems.map((p) => p.sourceId).sort());
        },
      ),
      { numRuns: 60 },
    );
  });

  it('pulls every source without a shard, as one shard of one', async () => {
    const sources = ['acme', 'beta', 'gamma'].map((id) => source(id));
    expect((await runShard(sources, [], undefined)).pulled.sort()).toEqual(['acme', 'beta', 'gamma']);
    expect((await runShard(sources, [], SINGLE_SHARD)).pulled.sort()).toEqual(['acme', 'beta', 'gamma']);
  });
});

describe('parsePullerInput', () => {
  it.each([
    [undefined, SINGLE_SHARD],
    [null, SINGLE_SHARD],
    [{}, SINGLE_SHARD],
    // The scheduled event EventBridge sends when a target has no Input (an older stack).
    [{ version: '0', 'detail-type': 'Scheduled Event', source: 'aws.events', detail: {} }, SINGLE_SHARD],
    [
      { shard: 0, shards: 1 },
      { index: 0, count: 1 },
    ],
    [
      { shard: 2, shards: 3 },
      { index: 2, count: 3 },
    ],
    [
      { shard: 19, shards: 20 },
      { index: 19, count: 20 },
    ],
  ])('reads %j as %j', (event, shard) => {
    expect(parsePullerInput(event)).toEqual(shard);
  });

  it.each([
    ['not json', 'the event must be a JSON object, got a string'],
    [[0, 2], 'the event must be a JSON object, got an array'],
    [{ shard: 1 }, '"shard" is given without "shards"'],
    [{ shards: 2 }, '"shards" is given without "shard"'],
    [{ shard: 0, shards: 0 }, '"shards" must be a whole number from 1 to 20, got 0'],
    [{ shard: 0, shards: 21 }, '"shards" must be a whole number from 1 to 20, got 21'],
    [{ shard: 0, shards: '2' }, '"shards" must be a whole number from 1 to 20, got "2"'],
    [{ shard: 2, shards: 2 }, '"shard" must be a whole number from 0 to 1 (shards is 2), got 2'],
    [{ shard: -1, shards: 2 }, '"shard" must be a whole number from 0 to 1 (shards is 2), got -1'],
    [{ shard: 0.5, shards: 2 }, '"shard" must be a whole number from 0 to 1 (shards is 2), got 0.5'],
  ])('rejects %j: %s', (event, message) => {
    expect(() => parsePullerInput(event)).toThrow(PullerInputError);
    expect(() => parsePullerInput(event)).toThrow(
      `puller input: ${message}; expected {"shard": i, "shards": N} with 0 <= i < N <= 20, or neither key to pull every source`,
    );
  });

  it('fails the invocation on a bad event before building anything or listing a source', async () => {
    const handler = createPullerHandler({
      env: {},
      writeLine: () => undefined,
      logger: { info: () => undefined, warn: () => undefined, error: () => undefined },
    });

    await expect(
      handler(
        { shard: 3, shards: 2 },
        lambdaContext({ functionName: 'okta-log-pipeline-puller', requestId: 'bad-input', getRemainingTimeInMillis: () => 90_000 }),
      ),
    ).rejects.toThrow(PullerInputError);
    expect(handler.runtime()).toBeUndefined();
  });
});
