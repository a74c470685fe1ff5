import type { SourceConfig } from '../ports';
import { classifyHost } from '../sources/host-guard';
import { ForeignOriginError, OktaConfigError } from './errors';

/**
 * The origin the client may send the source's credential to. `parseSourceSecret` already checks
 * the domain; the client checks again because it is the last line before a credential leaves
 * the process, and a SourceConfig can be built by other code than the secret parser.
 */
export function orgOriginOf(source: SourceConfig, allowLoopback: boolean): string {
  const expected = 'expected https://<org>.okta.com (or oktapreview.com, okta-emea.com, okta-gov.com, okta.mil)';
  let url: URL;
  try {
    url = new URL(source.domain);
  } catch {
    throw new OktaConfigError(source.id, `domain is not a URL; ${expected}`);
  }
  const host = url.hostname;
  if (url.username !== '' || url.password !== '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new OktaConfigError(source.id, `domain must be an origin only, without user, path, query or fragment (host ${host}); ${expected}`);
  }
  const verdict = classifyHost(host);
  if (verdict.kind === 'refused') throw new OktaConfigError(source.id, `domain ${verdict.why}; ${expected}`);
  if (verdict.kind === 'loopback') {
    if (!allowLoopback) {
      throw new OktaConfigError(source.id, `domain ${url.origin} is a loopback address, allowed only with OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1 (tests, demo, CLI)`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new OktaConfigError(source.id, `domain must use http or https for a loopback address, got ${url.protocol}`);
    }
    return url.origin;
  }
  if (url.protocol !== 'https:') {
    throw new OktaConfigError(source.id, `domain must use https (host ${host}, got ${url.protocol}); ${expected}`);
  }
  if (verdict.kind === 'custom' && !source.allowCustomDomain) {
    throw new OktaConfigError(source.id, `domain host ${host} is not an Okta org host; ${expected}, or set "allowCustomDomain": true for a custom URL domain`);
  }
  return url.origin;
}

/**
 * Resolves a link Okta returned (or a stored cursor) and insists that it has exactly the org's
 * origin, so the credential is never sent anywhere else.
 */
export function sameOriginUrl(sourceId: string, origin: string, link: string, base: string, what: string): string {
  let url: URL;
  try {
    url = new URL(link, base);
  } catch {
    throw new ForeignOriginError(sourceId, `${what} is not a URL; refusing to follow it`, 'unparseable');
  }
  if (url.origin !== origin || url.username !== '' || url.password !== '') {
    throw new ForeignOriginError(
      sourceId,
      `${what} points at ${url.origin}, not the org's ${origin}; refusing to send the credential there. If the org's domain really changed, update the source's domain and reset its cursor`,
      url.origin,
    );
  }
  // Followed verbatim: Okta says to follow its `next` links and never build the `after` cursor
  // yourself (https://developer.okta.com/docs/reference/system-log-query/); only a relative link is resolved.
  return URL.canParse(link) ? link : url.href;
}
