import type { SourceConfig } from '../ports';
import { checkOrgOrigin, type OriginProblem } from '../sources/host-guard';
import { ForeignOriginError, OktaConfigError } from './errors';

/**
 * The origin the client may send the source's credential to. `parseSourceSecret` already checks
 * the domain; the client checks again because it is the last line before a credential leaves
 * the process, and a SourceConfig can be built by other code than the secret parser.
 */
export function orgOriginOf(source: SourceConfig, allowLoopback: boolean): string {
  const verdict = checkOrgOrigin(source.domain, { allowLoopback, allowCustomDomain: source.allowCustomDomain });
  if (verdict.problem !== undefined) throw new OktaConfigError(source.id, describeOriginProblem(verdict.problem));
  return verdict.origin;
}

function describeOriginProblem(problem: OriginProblem): string {
  const expected = 'expected https://<org>.okta.com (or oktapreview.com, okta-emea.com, okta-gov.com, okta.mil)';
  switch (problem.kind) {
    case 'not-a-url':
      return `domain is not a URL; ${expected}`;
    case 'has-user-or-password':
    case 'not-origin-only':
      return `domain must be an origin only, without user, path, query or fragment (host ${problem.host}); ${expected}`;
    case 'refused-host':
      return `domain ${problem.why}; ${expected}`;
    case 'loopback-not-allowed':
      return `domain ${problem.origin} is a loopback address, allowed only with OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1 (tests, demo, CLI)`;
    case 'loopback-scheme':
      return `domain must use http or https for a loopback address, got ${problem.protocol}`;
    case 'not-https':
      return `domain must use https (host ${problem.host}, got ${problem.protocol}); ${expected}`;
    case 'custom-domain-not-allowed':
      return `domain host ${problem.host} is not an Okta org host; ${expected}, or set "allowCustomDomain": true for a custom URL domain`;
  }
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
