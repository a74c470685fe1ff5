/**
 * Which origins a source's credential may be sent to: the one rule that both the secret parser and
 * the Okta client apply (the client again as the last step before a credential leaves the process).
 * `checkOrgOrigin` answers with a problem value, not an error, so that each caller words it for its
 * reader (a secret field for the parser, a configuration error of the source for the client).
 *
 * - The domain must be an origin only: no user, password, path, query or fragment.
 * - Okta org hosts (`*.okta.com`, ...) are accepted.
 * - Loopback (every 127.0.0.0/8 address, `[::1]`, `localhost`) is a separate kind: the caller
 *   accepts it only with `OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1` (the CLI, the demo, tests).
 * - Every other IP literal (IPv4 in any of the forms the URL parser normalises, IPv6, IPv4-mapped
 *   IPv6) is refused, whatever `allowCustomDomain` says: an org is reached by name, and an address
 *   is how a secret would point a credential at the metadata service (169.254.169.254), a private
 *   network (10/8, 172.16/12, 192.168/16) or this machine (0.0.0.0).
 * - A trailing dot (`acme.okta.com.`, `localhost.`) is refused: it is another spelling of a name
 *   that would slip past the comparisons above.
 * - A custom URL domain must be a public DNS name: two labels at least, and not under a name
 *   reserved for local networks (`.local`, `.internal`, `.localhost`, `.home.arpa`, ...).
 */

/** The Okta org host suffixes; anything else is a custom URL domain. */
export const OKTA_ORG_HOST_SUFFIXES = ['okta.com', 'oktapreview.com', 'okta-emea.com', 'okta-gov.com', 'okta.mil'] as const;

/**
 * Suffixes of names that only resolve inside a network (RFC 6761, RFC 6762, RFC 8375, and the
 * cloud providers' internal zones).
 */
const INTERNAL_NAME_SUFFIXES = ['localhost', 'local', 'internal', 'home.arpa', 'localdomain', 'lan', 'intranet', 'corp', 'private'];

type HostVerdict =
  | { readonly kind: 'okta' }
  | { readonly kind: 'custom' }
  | { readonly kind: 'loopback' }
  | { readonly kind: 'refused'; readonly why: string };

/** What is wrong with a domain; `host` is the only part of it ever quoted back (a URL may carry a password). */
export type OriginProblem =
  | { readonly kind: 'not-a-url' }
  | { readonly kind: 'has-user-or-password'; readonly host: string }
  | { readonly kind: 'not-origin-only'; readonly host: string }
  | { readonly kind: 'refused-host'; readonly why: string }
  | { readonly kind: 'loopback-not-allowed'; readonly host: string; readonly origin: string }
  | { readonly kind: 'loopback-scheme'; readonly protocol: string }
  | { readonly kind: 'not-https'; readonly host: string; readonly protocol: string }
  | { readonly kind: 'custom-domain-not-allowed'; readonly host: string };

export type OriginVerdict =
  { readonly origin: string; readonly problem?: never } | { readonly origin?: never; readonly problem: OriginProblem };

export interface OrgOriginOptions {
  /** Loopback origins (the CLI, the demo and tests with `OKTA_LOG_PIPELINE_ALLOW_LOOPBACK=1`). */
  readonly allowLoopback: boolean;
  /** The source's `allowCustomDomain`: a public DNS name that is not an Okta org host. */
  readonly allowCustomDomain: boolean;
}

/** The origin a source's `domain` lets its credential go to, or what is wrong with the domain. */
export function checkOrgOrigin(domain: string, options: OrgOriginOptions): OriginVerdict {
  if (!URL.canParse(domain)) return { problem: { kind: 'not-a-url' } };
  const url = new URL(domain);
  const host = url.hostname;
  if (url.username !== '' || url.password !== '') return { problem: { kind: 'has-user-or-password', host } };
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '')
    return { problem: { kind: 'not-origin-only', host } };
  const verdict = classifyHost(host);
  if (verdict.kind === 'refused') return { problem: { kind: 'refused-host', why: verdict.why } };
  if (verdict.kind === 'loopback') {
    if (!options.allowLoopback) return { problem: { kind: 'loopback-not-allowed', host, origin: url.origin } };
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return { problem: { kind: 'loopback-scheme', protocol: url.protocol } };
    return { origin: url.origin };
  }
  if (url.protocol !== 'https:') return { problem: { kind: 'not-https', host, protocol: url.protocol } };
  if (verdict.kind === 'custom' && !options.allowCustomDomain) return { problem: { kind: 'custom-domain-not-allowed', host } };
  return { origin: url.origin };
}

/** Classifies `url.hostname` (as the WHATWG URL parser gives it: IPv4 normalised, IPv6 in brackets). */
function classifyHost(hostname: string): HostVerdict {
  const host = hostname.toLowerCase();
  if (host === '') return { kind: 'refused', why: 'has no host' };
  if (host.endsWith('.')) return { kind: 'refused', why: `host ${host} ends with a dot; write the name without it` };
  if (host.startsWith('[')) {
    return host === '[::1]'
      ? { kind: 'loopback' }
      : { kind: 'refused', why: `host ${host} is an IP address; an org is reached by its DNS name` };
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) {
    return host.startsWith('127.')
      ? { kind: 'loopback' }
      : { kind: 'refused', why: `host ${host} is an IP address; an org is reached by its DNS name` };
  }
  if (host === 'localhost') return { kind: 'loopback' };
  if (OKTA_ORG_HOST_SUFFIXES.some((suffix) => host.endsWith(`.${suffix}`))) return { kind: 'okta' };
  if (!host.includes('.')) return { kind: 'refused', why: `host ${host} is a single-label name, which only resolves inside a network` };
  const internal = INTERNAL_NAME_SUFFIXES.find((suffix) => host === suffix || host.endsWith(`.${suffix}`));
  if (internal !== undefined)
    return { kind: 'refused', why: `host ${host} is under .${internal}, a name that only resolves inside a network` };
  return { kind: 'custom' };
}
