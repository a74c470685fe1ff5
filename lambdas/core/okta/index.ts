/** The Okta System Log client: polling with next links, SSWS / OAuth (private_key_jwt, DPoP), rate-limit reserve, retries. */
export { createOktaClient, type FetchPageOptions, type LogPage, type OktaClient, type PageRequest } from './okta-client';
export { DEFAULT_OKTA_CLIENT_LIMITS, type OktaClientLimits, type OktaClientOptions } from './okta-client-options';
export {
  ForeignOriginError,
  OktaAuthError,
  OktaBadRequestError,
  OktaConfigError,
  OktaError,
  OktaPermissionError,
  OktaRateLimitError,
  OktaUnavailableError,
  type OktaErrorKind,
} from './errors';
export { parseLinkHeader } from './link-header';
