/**
 * The detections that run on the stream: every `Rule` exported by a module of this directory.
 * Adding one is its module here and its test cases, nothing else (docs/ARCHITECTURE.md, "Adding a
 * detection"); no list names the rules. Where the modules are found:
 * - run from source (jest, and tsx, which runs the CLI, the demo, the soak and the bench), in this
 *   directory, read when this module loads (`ruleFiles`);
 * - in a Lambda bundle, which has no directory, in the constant `DETECTION_RULE_FILES` that esbuild
 *   writes in at build time from the same `ruleFiles` (`ruleFilesDefine`, lib/pipeline-function.ts).
 *   The `require` of a template below makes esbuild bundle every file of this directory.
 * Finding no rule throws, so that a bundle built without the constant fails when it loads instead
 * of running no detections.
 */
import { isRule, type Rule } from '../rule';
import { ruleFiles } from '../rule-files';

/** Set only in a bundle, by esbuild's `define`: the rule files, comma-separated. */
declare const DETECTION_RULE_FILES: string | undefined;

/** The rules a module exports, by id, so that their order is the same whichever loader ran the module. */
function rulesOf(file: string): Rule[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the names are known only at run (or build) time
  const exported = require(`./${file}`) as Record<string, unknown>;
  return Object.values(exported)
    .filter(isRule)
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

const files = typeof DETECTION_RULE_FILES === 'string' ? DETECTION_RULE_FILES.split(',') : ruleFiles(__dirname);

export const DEFAULT_RULES: readonly Rule[] = files.flatMap(rulesOf);

if (DEFAULT_RULES.length === 0) {
  throw new Error(
    `no detection rule found in ${files.length === 0 ? __dirname : files.join(', ')}: a bundle needs esbuild's define ruleFilesDefine()`,
  );
}
