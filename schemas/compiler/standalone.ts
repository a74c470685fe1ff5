/**
 * Compiles a generated JSON Schema into ajv standalone validator modules (CommonJS), so that the
 * Lambda loads plain functions instead of compiling schemas at cold start.
 */
import Ajv, { _, type Options } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { AJV_FORMATS } from '../../lambdas/core/schema/time-formats';
import { ANNOTATION_KEYWORD } from '../../lambdas/core/schema/vocabulary';
import type { JsonSchema } from './json-schema';

/**
 * How the generated modules reach the time formats, relative to `schemas/generated/`. They load
 * the TypeScript source itself (tsx, esbuild and jest all resolve it), so the formats have one
 * definition.
 */
export const TIME_FORMATS_MODULE = '../../lambdas/core/schema/time-formats';

export type ValidatorKind = 'first' | 'all';

function ajvFor(kind: ValidatorKind): Ajv {
  const options: Options = {
    strict: true,
    // Nullable fields are `["string", "null"]`.
    allowUnionTypes: true,
    // Messages are built by the processor from the `x-panther` declaration, naming the field.
    messages: false,
    allErrors: kind === 'all',
    formats: { ...AJV_FORMATS },
    code: { source: true, lines: true, formats: _`require(${TIME_FORMATS_MODULE}).AJV_FORMATS` },
  };
  const ajv = new Ajv(options);
  // An annotation only: it carries the Panther declaration and validates nothing.
  ajv.addKeyword(ANNOTATION_KEYWORD);
  return ajv;
}

/** The CommonJS source of one standalone validator for `schema`. */
export function standaloneValidatorSource(schema: JsonSchema, kind: ValidatorKind): string {
  const ajv = ajvFor(kind);
  const validate = ajv.compile(schema);
  return standaloneCode(ajv, validate);
}
