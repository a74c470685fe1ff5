import { NodeHttpHandler } from '@smithy/node-http-handler';

/**
 * DynamoDB, S3, Secrets Manager and SNS calls: each is one small item, object, secret or message,
 * so ten seconds is generous; without a bound a black-holed connection would hold a puller slot
 * (and the run's metrics) or a detections batch until the Lambda timeout.
 */
export const AWS_API_HTTP = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
} as const;

/**
 * An SDK request handler whose connect and request timeouts end the call instead of hanging it.
 * `throwOnRequestTimeout` is what makes `requestTimeout` a bound: without it this SDK version
 * only logs a warning when the time is up and keeps waiting.
 */
export function awsHttpHandler(bounds: { readonly connectionTimeoutMs: number; readonly requestTimeoutMs: number }): NodeHttpHandler {
  return new NodeHttpHandler({
    connectionTimeout: bounds.connectionTimeoutMs,
    requestTimeout: bounds.requestTimeoutMs,
    throwOnRequestTimeout: true,
  });
}
