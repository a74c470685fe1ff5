import type { Context } from 'aws-lambda';

/**
 * A Lambda context for a handler run outside Lambda (the local containers, tests, the bench):
 * every member the Node.js runtime provides, so that Powertools Logger's `addContext` finds what
 * it finds in Lambda.
 */
export function lambdaContext(options: {
  readonly functionName: string;
  readonly requestId: string;
  readonly getRemainingTimeInMillis: () => number;
  readonly memoryMb?: number;
}): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 256),
    awsRequestId: options.requestId,
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: options.getRemainingTimeInMillis,
    // The Context type still requires the callback-era methods, deprecated as they are; they do nothing here.
    /* eslint-disable @typescript-eslint/no-deprecated */
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
    /* eslint-enable @typescript-eslint/no-deprecated */
  };
}
