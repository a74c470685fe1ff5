/**
 * Panther's indicator fields (`p_any_*`): values of the fields a schema marks with `indicators`,
 * kept only when they really are what the kind says (an IP address, an e-mail address ...), so
 * that placeholders such as `"unknown"` or Okta's `"000.000.00.000"` never reach a search index.
 */
import { isIPv4, isIPv6 } from 'node:net';
import type { FieldStep, IndicatorPlan } from './plan';
import { INDICATOR_FIELDS, type IndicatorKind } from './vocabulary';
import { isPlainObject } from '../json';

/** Values collected per standard field, by the field's index in `IndicatorCollector.fields`. */
type Buckets = Array<string[] | undefined>;
type Sink = (buckets: Buckets, value: string) => void;

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

/**
 * Exactly `net.isIP(value) !== 0`, without trying IPv6's long pattern on a string that has no
 * `:`: every IPv6 text form has one and no IPv4 form does. It runs for every address of every event.
 */
export function isIpAddress(value: string): boolean {
  return value.includes(':') ? isIPv6(value) : isIPv4(value);
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

function pusher(index: number): Sink {
  return (buckets, value) => {
    const bucket = buckets[index];
    if (bucket === undefined) buckets[index] = [value];
    else bucket.push(value);
  };
}

/** The sink of one indicator kind, given where each standard field's values go. */
function sinkOf(kind: IndicatorKind, slot: (field: string) => Sink): Sink {
  const matching = (pattern: RegExp, field: string): Sink => {
    const push = slot(field);
    return (buckets, value) => {
      if (pattern.test(value)) push(buckets, value);
    };
  };
  const nonEmpty = (field: string): Sink => {
    const push = slot(field);
    return (buckets, value) => {
      const trimmed = value.trim();
      if (trimmed !== '') push(buckets, trimmed);
    };
  };
  /** A host (of a URL, a hostname, a network address) is an IP address or a domain name. */
  const host = (): Sink => {
    const ip = slot('p_any_ip_addresses');
    const domain = slot('p_any_domain_names');
    return (buckets, value) => {
      const bare = value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
      if (isIpAddress(bare)) ip(buckets, bare);
      else if (DOMAIN.test(bare)) domain(buckets, bare);
    };
  };
  switch (kind) {
    case 'actor_id':
      return nonEmpty('p_any_actor_ids');
    case 'aws_account_id':
      return matching(AWS_ACCOUNT_ID, 'p_any_aws_account_ids');
    case 'aws_arn':
      return matching(AWS_ARN, 'p_any_aws_arns');
    case 'aws_instance_id':
      return matching(AWS_INSTANCE_ID, 'p_any_aws_instance_ids');
    case 'aws_tag':
      return nonEmpty('p_any_aws_tags');
    case 'domain':
      return matching(DOMAIN, 'p_any_domain_names');
    case 'email':
      return matching(EMAIL, 'p_any_emails');
    case 'hostname':
    case 'net_addr':
      return host();
    case 'ip': {
      const push = slot('p_any_ip_addresses');
      return (buckets, value) => {
        if (isIpAddress(value)) push(buckets, value);
      };
    }
    case 'mac':
      return matching(MAC, 'p_any_mac_addresses');
    case 'md5':
      return matching(MD5, 'p_any_md5_hashes');
    case 'serial_number':
      return nonEmpty('p_any_serial_numbers');
    case 'sha1':
      return matching(SHA1, 'p_any_sha1_hashes');
    case 'sha256':
      return matching(SHA256, 'p_any_sha256_hashes');
    case 'trace_id':
      return nonEmpty('p_any_trace_ids');
    case 'url': {
      const ofHost = host();
      return (buckets, value) => {
        const found = hostOfUrl(value);
        if (found !== undefined) ofHost(buckets, found);
      };
    }
    case 'username':
      return nonEmpty('p_any_usernames');
  }
}

type Walker = (value: unknown, buckets: Buckets) => void;

/** Follows a field path (through arrays) and hands every string at its end to `sink`. */
function walkerOf(steps: readonly FieldStep[], sink: Sink): Walker {
  if (steps.length === 0) {
    return (value, buckets) => {
      if (typeof value === 'string') sink(buckets, value);
    };
  }
  const [step, ...rest] = steps as [FieldStep, ...FieldStep[]];
  const next = walkerOf(rest, sink);
  if (step === null) {
    return (value, buckets) => {
      if (Array.isArray(value)) for (const element of value) next(element, buckets);
    };
  }
  return (value, buckets) => {
    if (isPlainObject(value)) next(value[step], buckets);
  };
}

export interface IndicatorCollector {
  /** The standard fields this log type can fill, sorted: the order they appear in a record. */
  readonly fields: readonly string[];
  /** Per field (same order), the event's values, or undefined when there are none. */
  collect(event: unknown): Array<string[] | undefined>;
}

/**
 * Compiles a log type's indicator paths once into plain closures, so that per event the work is
 * the field lookups and the checks themselves.
 */
export function compileIndicators(plans: readonly IndicatorPlan[]): IndicatorCollector {
  const fields: string[] = [...new Set(plans.flatMap((plan): readonly string[] => INDICATOR_FIELDS[plan.kind]))].sort();
  const slot = (field: string): Sink => pusher(fields.indexOf(field));
  const walkers = plans.map((plan) => walkerOf(plan.steps, sinkOf(plan.kind, slot)));
  return {
    fields,
    collect(event) {
      const buckets: Buckets = new Array<string[] | undefined>(fields.length);
      for (const walk of walkers) walk(event, buckets);
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
