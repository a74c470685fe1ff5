/**
 * Which files hold the detection rules: every TypeScript module of `rules/` but its index, in name
 * order. `rules/index.ts` reads them from the directory when the code runs from source; a bundle
 * has no such directory, so the Lambdas are bundled with the same list (`ruleFilesDefine`).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** The directory of the rule modules. */
export const RULES_DIRECTORY = join(__dirname, 'rules');

/** The rule modules of `directory`, sorted so that the rules' order does not depend on the file system. */
export function ruleFiles(directory: string = RULES_DIRECTORY): string[] {
  return readdirSync(directory)
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && file !== 'index.ts')
    .sort();
}

/**
 * esbuild's `define` that gives a bundle the rule files of `directory`: `rules/index.ts` reads the
 * constant `DETECTION_RULE_FILES` (comma-separated names) instead of the directory when it is set.
 */
export function ruleFilesDefine(directory: string = RULES_DIRECTORY): Record<string, string> {
  return { DETECTION_RULE_FILES: JSON.stringify(ruleFiles(directory).join(',')) };
}
