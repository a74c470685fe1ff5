/**
 * The Panther log-schema vocabulary shared by the compiler (`schemas/compiler`) and the runtime
 * processor: field types, time formats, indicator kinds, and the `x-panther` annotation the
 * compiler writes into every JSON Schema node so that the runtime can find indicators, the event
 * time and each field's declared type without the YAML.
 */

export const SCALAR_TYPES = ['string', 'int', 'smallint', 'bigint', 'float', 'boolean'] as const;
export type ScalarType = (typeof SCALAR_TYPES)[number];

export const FIELD_TYPES = [...SCALAR_TYPES, 'timestamp', 'object', 'array', 'json'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const TIME_FORMATS = ['rfc3339', 'unix', 'unix_ms', 'unix_us', 'unix_ns'] as const;
export type TimeFormat = (typeof TIME_FORMATS)[number];

/**
 * Integer ranges of Panther's integer types (16, 32 and 64-bit columns). The upper bound is
 * exclusive because 2^63 - 1 is not representable as a double: `< 2^63` is the exact check.
 */
export const INTEGER_RANGES: Readonly<Record<'smallint' | 'int' | 'bigint', { minimum: number; exclusiveMaximum: number; label: string }>> =
  {
    smallint: { minimum: -32768, exclusiveMaximum: 32768, label: '-32768 to 32767' },
    int: { minimum: -2147483648, exclusiveMaximum: 2147483648, label: '-2147483648 to 2147483647' },
    bigint: { minimum: -(2 ** 63), exclusiveMaximum: 2 ** 63, label: '-2^63 to 2^63-1' },
  };

/**
 * Panther's indicator kinds and the standard field each one fills. `url`, `hostname` and
 * `net_addr` hold a host that is either an IP address or a domain name, so they feed both sets.
 */
export const INDICATOR_FIELDS = {
  actor_id: ['p_any_actor_ids'],
  aws_account_id: ['p_any_aws_account_ids'],
  aws_arn: ['p_any_aws_arns'],
  aws_instance_id: ['p_any_aws_instance_ids'],
  aws_tag: ['p_any_aws_tags'],
  domain: ['p_any_domain_names'],
  email: ['p_any_emails'],
  hostname: ['p_any_domain_names', 'p_any_ip_addresses'],
  ip: ['p_any_ip_addresses'],
  mac: ['p_any_mac_addresses'],
  md5: ['p_any_md5_hashes'],
  net_addr: ['p_any_domain_names', 'p_any_ip_addresses'],
  serial_number: ['p_any_serial_numbers'],
  sha1: ['p_any_sha1_hashes'],
  sha256: ['p_any_sha256_hashes'],
  trace_id: ['p_any_trace_ids'],
  url: ['p_any_domain_names', 'p_any_ip_addresses'],
  username: ['p_any_usernames'],
} as const satisfies Record<string, readonly string[]>;
export type IndicatorKind = keyof typeof INDICATOR_FIELDS;

export function isIndicatorKind(value: string): value is IndicatorKind {
  return Object.prototype.hasOwnProperty.call(INDICATOR_FIELDS, value);
}

/** The name of the annotation keyword on every JSON Schema node the compiler writes. */
export const ANNOTATION_KEYWORD = 'x-panther';

/** What `x-panther` holds: the Panther declaration the JSON Schema node was generated from. */
export interface PantherAnnotation {
  readonly type: FieldType;
  readonly timeFormats?: readonly TimeFormat[];
  readonly isEventTime?: boolean;
  readonly indicators?: readonly IndicatorKind[];
}

/**
 * ajv format names for timestamps held in strings. Numeric time formats need no format: the
 * JSON type (`number` / `integer`) is the whole check.
 */
export const RFC3339_FORMAT = 'rfc3339';
/** A timestamp whose `timeFormats` list mixes rfc3339 and numeric forms, sent as a string. */
export const RFC3339_OR_NUMERIC_FORMAT = 'rfc3339-or-numeric';
/** The same when every numeric form is integral (unix_ms, unix_us, unix_ns): "1.5" is no such time. */
export const RFC3339_OR_INTEGER_FORMAT = 'rfc3339-or-integer';

export function isFieldType(value: string): value is FieldType {
  return (FIELD_TYPES as readonly string[]).includes(value);
}

export function isTimeFormat(value: string): value is TimeFormat {
  return (TIME_FORMATS as readonly string[]).includes(value);
}
