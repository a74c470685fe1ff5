/**
 * Panther's indicator fields (`p_any_*`): values of the fields a schema marks with `indicators`,
 * kept only when they really are what the kind says (an IP address, an e-mail address ...), so
 * that placeholders such as `"unknown"` or Okta's `"000.000.00.000"` never reach a search index.
 */
import { isIP } from 'node:net';
import { INDICATOR_FIELDS, type IndicatorKind } from './vocabulary';

/** Collected values per standard field, e.g. `{ p_any_ip_addresses: ['10.0.0.1'] }`. */
export type IndicatorBuckets = Record<string, string[] | undefined>;

const EMAIL = /^[^\s@"<>(),;:\\[\]]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$/;
/** At least two labels and an alphabetic top-level label: rules out ".", "localhost", "unknown". */
const DOMAIN = /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}\.?$/;
const MD5 = /^[A-Fa-f0-9]{32}$/;
const SHA1 = /^[A-Fa-f0-9]{40}$/;
const SHA256 = /^[A-Fa-f0-9]{64}$/;
const MAC = /^[A-Fa-f0-9]{2}(?:([:-])[A-Fa-f0-9]{2}(?:\1[A-Fa-f0-9]{2}){4}|(?:[A-Fa-f0-9]{2}){5})$/;
const AWS_ACCOUNT_ID = /^\d{12}$/;
const AWS_ARN = /^arn:aws[A-Za-z-]*:[^:\s]*:[^:\s]*:[^:\s]*:\S+$/;
const AWS_INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

function add(buckets: IndicatorBuckets, field: string, value: string): void {
  const bucket = buckets[field];
  if (bucket === undefined) buckets[field] = [value];
  else bucket.push(value);
}

/** A host (from a URL, a hostname or a network address) is an IP address or a domain name. */
function addHost(buckets: IndicatorBuckets, host: string): void {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (isIP(bare) !== 0) add(buckets, 'p_any_ip_addresses', bare);
  else if (DOMAIN.test(bare)) add(buckets, 'p_any_domain_names', bare);
}

function hostOfUrl(value: string): string | undefined {
  if (!value.includes('://')) return undefined;
  try {
    const host = new URL(value).hostname;
    return host === '' ? undefined : host;
  } catch {
    return undefined;
  }
}

function matching(pattern: RegExp, field: string): (buckets: IndicatorBuckets, value: string) => void {
  return (buckets, value) => {
    if (pattern.test(value)) add(buckets, field, value);
  };
}

function nonEmpty(field: string): (buckets: IndicatorBuckets, value: string) => void {
  return (buckets, value) => {
    const trimmed = value.trim();
    if (trimmed !== '') add(buckets, field, trimmed);
  };
}

const EXTRACTORS: Readonly<Record<IndicatorKind, (buckets: IndicatorBuckets, value: string) => void>> = {
  actor_id: nonEmpty('p_any_actor_ids'),
  aws_account_id: matching(AWS_ACCOUNT_ID, 'p_any_aws_account_ids'),
  aws_arn: matching(AWS_ARN, 'p_any_aws_arns'),
  aws_instance_id: matching(AWS_INSTANCE_ID, 'p_any_aws_instance_ids'),
  aws_tag: nonEmpty('p_any_aws_tags'),
  domain: matching(DOMAIN, 'p_any_domain_names'),
  email: matching(EMAIL, 'p_any_emails'),
  hostname: addHost,
  ip: (buckets, value) => {
    if (isIP(value) !== 0) add(buckets, 'p_any_ip_addresses', value);
  },
  mac: matching(MAC, 'p_any_mac_addresses'),
  md5: matching(MD5, 'p_any_md5_hashes'),
  net_addr: addHost,
  serial_number: nonEmpty('p_any_serial_numbers'),
  sha1: matching(SHA1, 'p_any_sha1_hashes'),
  sha256: matching(SHA256, 'p_any_sha256_hashes'),
  trace_id: nonEmpty('p_any_trace_ids'),
  url: (buckets, value) => {
    const host = hostOfUrl(value);
    if (host !== undefined) addHost(buckets, host);
  },
  username: nonEmpty('p_any_usernames'),
};

/** Adds `value` to the standard fields of `kind` when it is a real indicator of that kind. */
export function collectIndicator(buckets: IndicatorBuckets, kind: IndicatorKind, value: string): void {
  EXTRACTORS[kind](buckets, value);
}

/** Every standard field an indicator kind can fill, sorted: the order they appear in a record. */
export function indicatorFieldsOf(kinds: Iterable<IndicatorKind>): string[] {
  const fields = new Set<string>();
  for (const kind of kinds) for (const field of INDICATOR_FIELDS[kind]) fields.add(field);
  return [...fields].sort();
}

/** Sorted (by UTF-16 code unit) and without duplicates, in place. */
export function uniqueSorted(values: string[]): string[] {
  if (values.length < 2) return values;
  values.sort();
  let write = 1;
  for (let read = 1; read < values.length; read += 1) {
    if (values[read] !== values[write - 1]) {
      values[write] = values[read] as string;
      write += 1;
    }
  }
  values.length = write;
  return values;
}
