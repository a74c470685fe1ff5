/**
 * Panther's indicator fields (`p_any_*`): values of the fields a schema marks with `indicators`,
 * kept only when they really are what the kind says (an IP address, an e-mail address ...), so
 * that placeholders such as `"unknown"` or Okta's `"000.000.00.000"` never reach a search index.
 */
import { isIPv6 } from 'node:net';
import type { FieldStep, IndicatorPlan } from './plan';
import { INDICATOR_FIELDS, type IndicatorKind } from './vocabulary';

/** Values collected per standard field, by the field's index in `IndicatorCollector.fields`. */
type Buckets = Array<string[] | undefined>;

/** At least two labels and an alphabetic top-level label: rules out ".", "localhost", "unknown". */
const DOMAIN = /^(?=.{1,253}\.?$)(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}\.?$/;
const MD5 = /^[A-Fa-f0-9]{32}$/;
const SHA1 = /^[A-Fa-f0-9]{40}$/;
const SHA256 = /^[A-Fa-f0-9]{64}$/;
const MAC = /^[A-Fa-f0-9]{2}(?:([:-])[A-Fa-f0-9]{2}(?:\1[A-Fa-f0-9]{2}){4}|(?:[A-Fa-f0-9]{2}){5})$/;
const AWS_ACCOUNT_ID = /^\d{12}$/;
const AWS_ARN = /^arn:aws[A-Za-z-]*:[^:\s]*:[^:\s]*:[^:\s]*:\S+$/;
const AWS_INSTANCE_ID = /^i-(?:[0-9a-f]{8}|[0-9a-f]{17})$/;

/**
 * Exactly `net.isIP(value) !== 0`. IPv4, what almost every address is, is checked by hand (see
 * `isDottedQuad`); IPv6 by Node, and only for strings with a `:`: every IPv6 text form has one
 * and no IPv4 form does. It runs for every address of every event.
 */
export function isIpAddress(value: string): boolean {
  return value.includes(':') ? isIPv6(value) : isDottedQuad(value);
}

/**
 * Exactly Node's `net.isIPv4` (four decimal octets 0-255 joined by dots, no leading zeros, nothing
 * else: the pattern `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9][0-9]|[0-9])` four times in Node's
 * lib/internal/net.js), read character by character: Node's regular expression cost as much as
 * the rest of the indicator work. The tests hold it to `net.isIPv4` on generated near-addresses.
 */
export function isDottedQuad(value: string): boolean {
  const length = value.length;
  if (length < 7 || length > 15) return false;
  let dots = 0;
  let digits = 0;
  let octet = 0;
  for (let index = 0; index < length; index += 1) {
    const code = value.charCodeAt(index);
    if (code === 0x2e) {
      if (digits === 0 || dots === 3) return false;
      dots += 1;
      digits = 0;
      octet = 0;
    } else if (code >= 0x30 && code <= 0x39) {
      // A leading zero is allowed only as the whole octet; without one, 255 bounds the digits to 3.
      if (digits === 1 && octet === 0) return false;
      octet = octet * 10 + (code - 0x30);
      if (octet > 255) return false;
      digits += 1;
    } else {
      return false;
    }
  }
  return dots === 3 && digits > 0;
}

/** `\s` of a JavaScript regular expression: ECMAScript's WhiteSpace (Unicode Zs and TAB, VT, FF, BOM) and LineTerminator. */
function isRegExpSpace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

/** Characters a local part may not hold: `@ " < > ( ) , ; : \\ [ ]` (and `\s`). */
const NOT_IN_LOCAL_PART = new Set([0x40, 0x22, 0x3c, 0x3e, 0x28, 0x29, 0x2c, 0x3b, 0x3a, 0x5c, 0x5b, 0x5d]);

function isAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

/**
 * Whether `value` matches
 * `^[^\s@"<>(),;:\\[\]]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z][A-Za-z0-9-]{0,62}$`:
 * a local part without spaces, quotes, brackets or separators, then labels of up to 63 letters,
 * digits and inner hyphens, and an alphabetic top-level label. Neither part can hold `@` and no
 * label a dot, so the first `@` and every dot after it are the boundaries: read in one pass, it
 * costs a fraction of the backtracking regular expression (the tests hold the two equal).
 */
export function isEmailAddress(value: string): boolean {
  const at = value.indexOf('@');
  if (at < 1) return false;
  for (let index = 0; index < at; index += 1) {
    const code = value.charCodeAt(index);
    if (NOT_IN_LOCAL_PART.has(code) || isRegExpSpace(code)) return false;
  }
  let labels = 0;
  let start = at + 1;
  for (let index = start; index <= value.length; index += 1) {
    const code = index === value.length ? 0x2e : value.charCodeAt(index);
    if (code !== 0x2e) {
      if (code !== 0x2d && !isAlphanumeric(code)) return false;
      continue;
    }
    const length = index - start;
    if (length < 1 || length > 63) return false;
    const first = value.charCodeAt(start);
    if (index === value.length) {
      // The top-level label: a letter first, then letters, digits or hyphens.
      return labels > 0 && ((first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a));
    }
    if (!isAlphanumeric(first) || !isAlphanumeric(value.charCodeAt(index - 1))) return false;
    labels += 1;
    start = index + 1;
  }
  return false;
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

/**
 * What a string at an indicator path is checked as, and where it goes. One shape for every kind
 * (and `feed` switching on `mode`) keeps the per-value call sites monomorphic: a closure per kind
 * made them megamorphic, and the calls cost more than the checks.
 */
interface Sink {
  /** `match`: `pattern` decides; `host`: an IP address or a domain name; `url`: the host of a URL. */
  readonly mode: 'match' | 'email' | 'nonEmpty' | 'ip' | 'host' | 'url';
  readonly pattern: RegExp | undefined;
  /** The bucket of the kind's field; for `host` and `url`, of `p_any_ip_addresses`. */
  readonly bucket: number;
  /** For `host` and `url`: the bucket of `p_any_domain_names`; otherwise -1. */
  readonly domainBucket: number;
}

function push(buckets: Buckets, index: number, value: string): void {
  const bucket = buckets[index];
  if (bucket === undefined) buckets[index] = [value];
  else bucket.push(value);
}

/** A host (of a URL, a hostname, a network address) is an IP address or a domain name. */
function feedHost(sink: Sink, value: string, buckets: Buckets): void {
  const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
  if (isIpAddress(bare)) push(buckets, sink.bucket, bare);
  else if (DOMAIN.test(bare)) push(buckets, sink.domainBucket, bare);
}

function feed(sink: Sink, value: string, buckets: Buckets): void {
  switch (sink.mode) {
    case 'match':
      if (sink.pattern !== undefined && sink.pattern.test(value)) push(buckets, sink.bucket, value);
      return;
    case 'email':
      if (isEmailAddress(value)) push(buckets, sink.bucket, value);
      return;
    case 'nonEmpty': {
      const trimmed = value.trim();
      if (trimmed !== '') push(buckets, sink.bucket, trimmed);
      return;
    }
    case 'ip':
      if (isIpAddress(value)) push(buckets, sink.bucket, value);
      return;
    case 'host':
      feedHost(sink, value, buckets);
      return;
    case 'url': {
      const found = hostOfUrl(value);
      if (found !== undefined) feedHost(sink, found, buckets);
      return;
    }
  }
}

/** The sink of one indicator kind, given the bucket index of each standard field. */
function sinkOf(kind: IndicatorKind, bucketOf: (field: string) => number): Sink {
  const matching = (pattern: RegExp, field: string): Sink => ({ mode: 'match', pattern, bucket: bucketOf(field), domainBucket: -1 });
  const single = (mode: 'email' | 'nonEmpty' | 'ip', field: string): Sink => ({
    mode,
    pattern: undefined,
    bucket: bucketOf(field),
    domainBucket: -1,
  });
  const host = (mode: 'host' | 'url'): Sink => ({
    mode,
    pattern: undefined,
    bucket: bucketOf('p_any_ip_addresses'),
    domainBucket: bucketOf('p_any_domain_names'),
  });
  switch (kind) {
    case 'actor_id':
      return single('nonEmpty', 'p_any_actor_ids');
    case 'aws_account_id':
      return matching(AWS_ACCOUNT_ID, 'p_any_aws_account_ids');
    case 'aws_arn':
      return matching(AWS_ARN, 'p_any_aws_arns');
    case 'aws_instance_id':
      return matching(AWS_INSTANCE_ID, 'p_any_aws_instance_ids');
    case 'aws_tag':
      return single('nonEmpty', 'p_any_aws_tags');
    case 'domain':
      return matching(DOMAIN, 'p_any_domain_names');
    case 'email':
      return single('email', 'p_any_emails');
    case 'hostname':
    case 'net_addr':
      return host('host');
    case 'ip':
      return single('ip', 'p_any_ip_addresses');
    case 'mac':
      return matching(MAC, 'p_any_mac_addresses');
    case 'md5':
      return matching(MD5, 'p_any_md5_hashes');
    case 'serial_number':
      return single('nonEmpty', 'p_any_serial_numbers');
    case 'sha1':
      return matching(SHA1, 'p_any_sha1_hashes');
    case 'sha256':
      return matching(SHA256, 'p_any_sha256_hashes');
    case 'trace_id':
      return single('nonEmpty', 'p_any_trace_ids');
    case 'url':
      return host('url');
    case 'username':
      return single('nonEmpty', 'p_any_usernames');
  }
}

/**
 * The indicator paths of a log type merged into one tree: a step names a property (`keys` and
 * `children`, in the same order) or every element of an array (`each`); the strings that end a
 * path go to its `sinks`.
 */
interface PathNode {
  readonly sinks: Sink[];
  readonly keys: string[];
  readonly children: PathNode[];
  each: PathNode | undefined;
}

function pathNode(): PathNode {
  return { sinks: [], keys: [], children: [], each: undefined };
}

function nodeAt(root: PathNode, steps: readonly FieldStep[]): PathNode {
  let node = root;
  for (const step of steps) {
    if (step === null) {
      node.each ??= pathNode();
      node = node.each;
      continue;
    }
    const index = node.keys.indexOf(step);
    if (index !== -1) {
      node = node.children[index] as PathNode;
      continue;
    }
    const child = pathNode();
    node.keys.push(step);
    node.children.push(child);
    node = child;
  }
  return node;
}

/** Hands every string at the end of a path under `node` to the path's sinks. */
function walk(node: PathNode, value: unknown, buckets: Buckets): void {
  if (typeof value === 'string') {
    const sinks = node.sinks;
    for (let index = 0; index < sinks.length; index += 1) feed(sinks[index] as Sink, value, buckets);
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    const each = node.each;
    if (each !== undefined) for (let index = 0; index < value.length; index += 1) walk(each, value[index], buckets);
    return;
  }
  const { keys, children } = node;
  for (let index = 0; index < keys.length; index += 1) {
    walk(children[index] as PathNode, (value as Record<string, unknown>)[keys[index] as string], buckets);
  }
}

export interface IndicatorCollector {
  /** The standard fields this log type can fill, sorted: the order they appear in a record. */
  readonly fields: readonly string[];
  /** Per field (same order), the event's values, or undefined when there are none. */
  collect(event: unknown): Array<string[] | undefined>;
}

/**
 * Compiles a log type's indicator paths once into one tree, so that per event the work is one
 * walk over the fields that hold indicators and the checks themselves. Values arrive in tree
 * order, not path order: `uniqueSorted` makes the fields independent of it.
 */
export function compileIndicators(plans: readonly IndicatorPlan[]): IndicatorCollector {
  const fields: string[] = [...new Set(plans.flatMap((plan): readonly string[] => INDICATOR_FIELDS[plan.kind]))].sort();
  const bucketOf = (field: string): number => fields.indexOf(field);
  const root = pathNode();
  for (const plan of plans) nodeAt(root, plan.steps).sinks.push(sinkOf(plan.kind, bucketOf));
  return {
    fields,
    collect(event) {
      const buckets: Buckets = new Array<string[] | undefined>(fields.length);
      walk(root, event, buckets);
      return buckets;
    },
  };
}

/** Sorted (by UTF-16 code unit) and without duplicates, in place. */
export function uniqueSorted(values: string[]): string[] {
  if (values.length < 2) return values;
  if (values.length === 2) {
    // The common case (a client address and the same one in the request's chain): the default
    // sort's comparator costs more than the comparison. `<` on strings is the same code-unit order.
    const [first, second] = values as [string, string];
    if (first === second) values.length = 1;
    else if (second < first) {
      values[0] = second;
      values[1] = first;
    }
    return values;
  }
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
