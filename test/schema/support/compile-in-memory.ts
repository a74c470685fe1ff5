/**
 * Compiles a YAML log schema the way `schema build` does (YAML → JSON Schema → ajv standalone
 * source) and loads the generated source as a module, so tests exercise the very code that would
 * be checked in, for schemas that are not.
 */
import * as timeFormats from '../../../lambdas/core/schema/time-formats';
import type { GeneratedLogType, StandaloneValidator } from '../../../lambdas/core/schema/generated-log-type';
import { toJsonSchema, type JsonSchema } from '../../../schemas/compiler/json-schema';
import { parseLogSchema } from '../../../schemas/compiler/panther-schema';
import { TIME_FORMATS_MODULE, standaloneValidatorSource } from '../../../schemas/compiler/standalone';

function isValidator(value: unknown): value is StandaloneValidator {
  return typeof value === 'function';
}

/** Evaluates CommonJS source, resolving the time formats module to the one under test. */
export function loadValidator(source: string): StandaloneValidator {
  const module: { exports: unknown } = { exports: {} };
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the generated module names what it requires
  const requireForGenerated = (id: string): unknown => (id === TIME_FORMATS_MODULE ? timeFormats : require(id));
  // eslint-disable-next-line @typescript-eslint/no-implied-eval, @typescript-eslint/no-unsafe-call -- evaluating generated source is this helper's job
  new Function('module', 'exports', 'require', source)(module, module.exports, requireForGenerated);
  if (!isValidator(module.exports)) throw new Error('generated validator module did not export a function');
  return module.exports;
}

export function compileYaml(
  yaml: string,
  file = 'test/schema.yml',
): { logType: string; jsonSchema: JsonSchema; generated: GeneratedLogType } {
  const schema = parseLogSchema(file, yaml);
  const jsonSchema = toJsonSchema(schema);
  return {
    logType: schema.logType,
    jsonSchema,
    generated: {
      schema: jsonSchema,
      validateFirst: loadValidator(standaloneValidatorSource(jsonSchema, 'first')),
      validateAll: loadValidator(standaloneValidatorSource(jsonSchema, 'all')),
    },
  };
}
