import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { lambdaTelemetry } from '../adapters/aws/lambda-telemetry';
import type { PullerLogger } from '../core/ports';
import { runPuller, type PullerReport } from '../core/puller/run-puller';
import { parsePullerInput } from '../core/puller/shard';
import { createPullerRuntime, type PullerRuntime, type PullerRuntimeOptions } from './puller-runtime';

/** What an invocation returns (visible in the console's test runs): counts only, never a secret. */
export interface PullerResult {
  readonly invocationId: string;
  /** The shard this invocation pulled (`{"shard": i, "shards": N}` in its event; 0 of 1 without). */
  readonly shard: number;
  readonly shards: number;
  readonly sources: number;
  readonly pulled: number;
  readonly failed: number;
  readonly leaseHeld: number;
  readonly disabled: number;
  readonly invalidSecrets: number;
  readonly delivered: number;
}

export type PullerHandler = (event: unknown, context: Context) => Promise<PullerResult>;

export interface PullerHandlerOptions extends Partial<Omit<PullerRuntimeOptions, 'logger' | 'emitMetrics'>> {
  /** Replaces Powertools Logger (a test's capture); its lines get no Lambda context. */
  readonly logger?: PullerLogger;
  /** Where EMF lines go. @default stdout */
  readonly writeLine?: (line: string) => void;
}

/**
 * Makes the puller handler. The runtime (SDK clients, adapters, caches) is built at the first
 * invocation and kept for the container's life; a run fails only when the sources cannot be
 * listed, the environment is wrong or the event is not a shard assignment (`PullerInputError`),
 * never because of one source.
 */
export function createPullerHandler(options: PullerHandlerOptions = {}): PullerHandler & { runtime(): PullerRuntime | undefined } {
  let runtime: PullerRuntime | undefined;
  const telemetry = lambdaTelemetry({ writeLine: options.writeLine });
  const handle: PullerHandler = async (event, context) => {
    telemetry.startInvocation(context);
    const shard = parsePullerInput(event);
    runtime ??= createPullerRuntime({
      env: options.env ?? process.env,
      logger: options.logger ?? pullerLogger(telemetry.logger),
      emitMetrics: telemetry.emitMetrics,
      clock: options.clock,
      allowLoopback: options.allowLoopback,
    });
    const report = await runPuller(runtime.deps, {
      invocationId: context.awsRequestId,
      budgetMs: runtime.config.runBudgetMs,
      remainingMs: context.getRemainingTimeInMillis(),
      limits: { concurrency: runtime.config.concurrency },
      shard,
      collectGarbage: exposedGc(),
    });
    return resultOf(report);
  };
  return Object.assign(handle, { runtime: () => runtime });
}

/**
 * `gc`, present when node runs with `--expose-gc`, as the Lambda Node.js runtime's bootstrap
 * starts it (see `lambdaNodeFlags` in bench/lambda.ts).
 */
function exposedGc(): (() => void) | undefined {
  const { gc } = globalThis as { gc?: () => void };
  return gc;
}

/** The run's logger port on Powertools Logger (JSON lines; `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`). */
function pullerLogger(logger: Logger): PullerLogger {
  return {
    info: (message, attributes = {}) => logger.info(message, attributes),
    warn: (message, attributes = {}) => logger.warn(message, attributes),
    error: (message, attributes = {}) => logger.error(message, attributes),
  };
}

function resultOf(report: PullerReport): PullerResult {
  const count = (outcome: string): number => report.sources.filter(({ summary }) => summary.outcome === outcome).length;
  return {
    invocationId: report.invocationId,
    shard: report.shard.index,
    shards: report.shard.count,
    sources: report.sources.length,
    pulled: report.sources.filter(({ summary, started }) => started && (summary.outcome === 'caught-up' || summary.outcome === 'deadline'))
      .length,
    failed: count('failed'),
    leaseHeld: count('lease-held'),
    disabled: report.disabled.length,
    invalidSecrets: report.problems.length,
    delivered: report.sources.reduce((sum, { summary }) => sum + summary.delivered, 0),
  };
}

/** The Lambda entry point (CDK bundles this export). Loopback Okta domains are never accepted here. */
export const handler = createPullerHandler();
