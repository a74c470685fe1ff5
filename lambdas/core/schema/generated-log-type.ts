/**
 * The shape of what `okta-log-pipeline schema build` generates per log type (see
 * `schemas/generated/index.ts`): the JSON Schema and two precompiled ajv standalone validators,
 * so that nothing is compiled at Lambda cold start.
 */

/** One validation error as ajv's standalone code reports it (built without messages). */
export interface ValidatorError {
  readonly keyword: string;
  /** JSON Pointer to the offending value, e.g. `/target/0/type`. */
  readonly instancePath: string;
  readonly schemaPath: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** A precompiled validator: returns whether `data` is valid and leaves the reasons in `errors`. */
export interface StandaloneValidator {
  (data: unknown): boolean;
  errors?: ValidatorError[] | null;
}

export interface GeneratedLogType {
  /** The generated JSON Schema, with an `x-panther` annotation on every field. */
  readonly schema: unknown;
  /** Stops at the first error and builds no messages: the hot path for events that are valid. */
  readonly validateFirst: StandaloneValidator;
  /** Reports every error (`allErrors`): for explaining invalid events only. */
  readonly validateAll: StandaloneValidator;
}
