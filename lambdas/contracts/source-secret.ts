/**
 * The contract of a source's secret: the JSON text one Secrets Manager secret holds per Okta org
 * (docs/ONBOARDING.md). Writers (`sources add`, `sources enable|disable`, `pull`, the local
 * runtime, the demo, the soak, the benchmarks) build it with these names and this type;
 * `parseSourceSecret` reads it, accepting exactly these fields and owning their validation,
 * defaults and bounds (`SOURCE_SECRET_LIMITS`).
 */

/** The `oauth` object: a service app with a private key (`private_key_jwt`), optionally DPoP-bound. */
export interface SourceSecretOauth {
  readonly clientId: string;
  /** PEM text; a PEM with literal `\n` sequences (hand-edited JSON) is repaired on reading. */
  readonly privateKeyPem: string;
  readonly keyId?: string;
  readonly dpop?: boolean;
}

/**
 * The credential: exactly one of an API token or a service app. `Oauth` is the `oauth` object's
 * type: a writer that passes on what the user gave (the CLI's `--oauth-file`) leaves it unchecked,
 * and `parseSourceSecret` checks it with the rest of the secret.
 */
export type SourceSecretCredential<Oauth = SourceSecretOauth> =
  { readonly apiToken: string; readonly oauth?: never } | { readonly oauth: Oauth; readonly apiToken?: never };

/** A source secret as writers build it; every field but `domain` and the credential is optional. */
export type SourceSecret<Oauth = SourceSecretOauth> = {
  /** The org's origin, e.g. `https://acme.okta.com`. */
  readonly domain: string;
  readonly label?: string;
  readonly dropOffMinutes?: number;
  readonly backfillHours?: number;
  readonly enabled?: boolean;
  /** The org is served from a custom URL domain, not an Okta org host. */
  readonly allowCustomDomain?: boolean;
} & SourceSecretCredential<Oauth>;

type AllKeys<T> = T extends unknown ? keyof T : never;
type SecretKey = AllKeys<SourceSecret>;

/** Each field once, checked against the types both ways (a field missing here, or one the types lack, does not compile). */
const TOP_LEVEL = {
  domain: true,
  apiToken: true,
  oauth: true,
  label: true,
  dropOffMinutes: true,
  backfillHours: true,
  enabled: true,
  allowCustomDomain: true,
} as const satisfies Record<SecretKey, true>;
const OAUTH = { clientId: true, privateKeyPem: true, keyId: true, dpop: true } as const satisfies Record<keyof SourceSecretOauth, true>;

/** The secret's top-level fields: any other is refused (a misspelt optional field must not be ignored). */
export const SOURCE_SECRET_KEYS = Object.keys(TOP_LEVEL) as readonly SecretKey[];

/** The `oauth` object's fields: any other is refused. */
export const SOURCE_SECRET_OAUTH_KEYS = Object.keys(OAUTH) as ReadonlyArray<keyof SourceSecretOauth>;

/** The names of the fields, for code that edits a secret as a JSON object (`SOURCE_SECRET_FIELD.enabled` is `'enabled'`). */
export const SOURCE_SECRET_FIELD = Object.fromEntries(SOURCE_SECRET_KEYS.map((key) => [key, key])) as { readonly [K in SecretKey]: K };

/** The SecretString of a source. */
export function sourceSecretString<Oauth>(secret: SourceSecret<Oauth>): string {
  return JSON.stringify(secret);
}
