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
    // Checked once against the draft-07 meta-schema by `checkAgainstMetaSchema`: compiling the
    // meta-schema again in every fresh instance would dominate the build (and the property tests).
    validateSchema: false,
    code: { source: true, lines: true, formats: _`require(${TIME_FORMATS_MODULE}).AJV_FORMATS` },
  };
  const ajv = new Ajv(options);
  // An annotation only: it carries the Panther declaration and validates nothing.
  ajv.addKeyword(ANNOTATION_KEYWORD);
  return ajv;
}

let metaSchemaChecker: Ajv | undefined;

/** Throws when the generated JSON Schema is not a valid draft-07 schema (a compiler bug). */
function checkAgainstMetaSchema(schema: JsonSchema): void {
  metaSchemaChecker ??= new Ajv({ strict: true, allowUnionTypes: true, keywords: [ANNOTATION_KEYWORD], formats: { ...AJV_FORMATS } });
  if (!metaSchemaChecker.validateSchema(schema)) {
    throw new Error(`generated JSON Schema is invalid: ${metaSchemaChecker.errorsText(metaSchemaChecker.errors)}`);
  }
}

/**
 * The CommonJS source of one standalone validator for `schema`. A fresh ajv instance per call
 * keeps the generated names (validate10 ...) independent of what was compiled before, so the
 * output is deterministic.
 */
export function standaloneValidatorSource(schema: JsonSchema, kind: ValidatorKind): string {
  checkAgainstMetaSchema(schema);
  const ajv = ajvFor(kind);
  const validate = ajv.compile(schema);
  return standaloneCode(ajv, validate);
}
