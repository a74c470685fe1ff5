/** The local runtime: the whole pipeline on loopback, for `okta-log-pipeline demo` and the soak. */
export { startLocalPipeline, type LocalPipeline, type QuarantinedObject, type SourceHealth } from './local-pipeline';
export { startLambdaContainer, type LambdaContainer, type LambdaLogLine } from './lambda-container';
