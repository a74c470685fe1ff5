/** The local runtime: the whole pipeline on loopback, for `okta-log-pipeline demo` and the soak. */
export {
  LOCAL_DETECTION_NAMES,
  LOCAL_PIPELINE_DEFAULTS,
  startLocalPipeline,
  type DetectionsDelivery,
  type LocalOrg,
  type LocalPipeline,
  type LocalPipelineOptions,
  type LocalSourceSpec,
  type PullerRun,
  type QuarantinedObject,
  type SourceHealth,
  type SourceRunMetrics,
} from './local-pipeline';
export {
  LambdaContainerDiedError,
  LambdaHandlerError,
  startLambdaContainer,
  type LambdaContainer,
  type LambdaInvocation,
  type LambdaLogLine,
} from './lambda-container';
export { StreamReader, type StreamRecord } from './stream-reader';
export { startSnsServer, type PublishedMessage, type SnsServer } from './sns-server';
