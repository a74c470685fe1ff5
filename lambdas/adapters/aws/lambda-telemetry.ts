import { Utility } from '@aws-lambda-powertools/commons';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import type { EmfDocument } from '../../core/metrics/emf';

/**
 * What both Lambdas write to CloudWatch Logs: Powertools Logger's JSON lines and the core's EMF
 * documents, each line carrying the invocation's request id and cold start, under Powertools'
 * own keys (`function_request_id`, `cold_start`), so that one Logs Insights query can join a
 * source's metrics line with the same invocation's log lines.
 */
export interface LambdaTelemetry {
  /** `POWERTOOLS_SERVICE_NAME`, `POWERTOOLS_LOG_LEVEL`; with the Lambda context once `startInvocation` ran. */
  readonly logger: Logger;
  /** Call first in every invocation: the lines written from then on belong to it. */
  startInvocation(context: Context): void;
  /** Writes one EMF document as a line of its own (see `lambdaTelemetry`); a function, so it can be handed on as the core's port. */
  readonly emitMetrics: (document: EmfDocument) => void;
}

export interface LambdaTelemetryOptions {
  /** @default POWERTOOLS_SERVICE_NAME */
  readonly serviceName?: string;
  /**
   * Where EMF lines go. @default stdout. Written directly, not through `console.log`: the Node.js
   * runtime prefixes console lines (time, request id, level), and CloudWatch extracts metrics only
   * from a log event that "MUST be a valid JSON object with no additional data at the beginning or
   * end" (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html).
   */
  readonly writeLine?: (line: string) => void;
}

/**
 * Powertools' own definition of a cold start (the first invocation of an on-demand container), as
 * the Logger's `addContext` applies it; a `Utility` of its own because the Logger's flag is
 * consumed by `addContext`, and `getColdStart` is reachable only from a subclass.
 */
class ColdStart extends Utility {
  next(): boolean {
    return this.getColdStart();
  }
}

/**
 * The one logging and metrics path of the puller and the detections Lambda.
 *
 * Metrics are EMF documents built by the core (`emf.ts`), not Powertools Metrics, whose 2.35
 * serialiser does not fit the metrics contract without work-arounds: it adds a `service`
 * dimension to every set unless its defaults are cleared, and then writes `"Dimensions": []`
 * rather than the contract's `[[]]` for a dimensionless document unless an empty set is added
 * by hand (`addDimensions({})`); its
 * `addMetadata` takes strings only, while the per-source line's non-metric fields are numbers that
 * the dashboard's Logs Insights queries add up (`sum(EventsDelivered)`); it validates the
 * timestamp against `Date.now()`, which warns under the soak's scaled clock; and its output cannot
 * be given a writer (the local runtime reads each invocation's lines), while `POWERTOOLS_DEV`
 * turns it off altogether.
 */
export function lambdaTelemetry(options: LambdaTelemetryOptions = {}): LambdaTelemetry {
  const logger = new Logger(options.serviceName === undefined ? {} : { serviceName: options.serviceName });
  const coldStarts = new ColdStart();
  const writeLine = options.writeLine ?? ((line: string) => process.stdout.write(`${line}\n`));
  let invocation: { readonly function_request_id: string; readonly cold_start: boolean } | undefined;
  return {
    logger,
    startInvocation(context) {
      logger.addContext(context);
      invocation = { function_request_id: context.awsRequestId, cold_start: coldStarts.next() };
    },
    emitMetrics: (document) => {
      writeLine(JSON.stringify({ ...document, ...invocation }));
    },
  };
}
