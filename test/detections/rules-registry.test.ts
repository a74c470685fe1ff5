/**
 * The rule set is `DEFAULT_RULES` (lambdas/core/detections/rules/index.ts), imported statically so
 * that esbuild bundles every rule into the Lambda. This test keeps that list correct by
 * construction: every rule a module of rules/ exports is registered, and nothing else is.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Rule } from '../../lambdas/core/detections/rule';
import { DEFAULT_RULES } from '../../lambdas/core/detections/rules';
import { bruteForceLogins } from '../../lambdas/core/detections/rules/brute-force-logins';

const RULES_DIR = join(__dirname, '..', '..', 'lambdas', 'core', 'detections', 'rules');

function isRule(value: unknown): value is Rule {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.id === 'string' && typeof candidate.match === 'function' && typeof candidate.title === 'function';
}

/** Every `Rule` exported by a module of rules/ (index.ts aside), with the file it came from. */
function exportedRules(): Array<{ file: string; rule: Rule }> {
  // Loads each rule file by its name, to find the rules that are not registered.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the file names are only known at run time
  const load = (file: string): Record<string, unknown> => require(join(RULES_DIR, file)) as Record<string, unknown>;
  return readdirSync(RULES_DIR)
    .filter((file) => file.endsWith('.ts') && file !== 'index.ts')
    .flatMap((file) =>
      Object.values(load(file))
        .filter(isRule)
        .map((rule) => ({ file, rule })),
    );
}

describe('the registered rules (DEFAULT_RULES)', () => {
  const found = exportedRules();

  it('the search of rules/ finds a rule in its own file', () => {
    expect(found).toContainEqual({ file: 'brute-force-logins.ts', rule: bruteForceLogins });
  });

  it('hold every rule a module of rules/ exports, and nothing else', () => {
    const unregistered = found.filter(({ rule }) => !DEFAULT_RULES.includes(rule)).map(({ file, rule }) => `${rule.id} (${file})`);
    expect(unregistered).toEqual([]);
    expect(DEFAULT_RULES.filter((rule) => !found.some((each) => each.rule === rule)).map((rule) => rule.id)).toEqual([]);
  });

  it('have distinct ids', () => {
    const ids = DEFAULT_RULES.map((rule) => rule.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });
});
