/**
 * The rule set is every `Rule` a module of lambdas/core/detections/rules/ exports, found without a
 * list kept by hand: from the directory when the code runs from source, from esbuild's `define`
 * (`ruleFilesDefine`, the one lib/pipeline-function.ts gives the Lambdas) in a bundle. The proof
 * that a dropped-in module is all it takes runs on a copy of lambdas/core with one more rule file.
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { ruleFiles, ruleFilesDefine } from '../../lambdas/core/detections/rule-files';
import type { Rule } from '../../lambdas/core/detections/rule';
import { DEFAULT_RULES } from '../../lambdas/core/detections/rules';
import { bruteForceLogins } from '../../lambdas/core/detections/rules/brute-force-logins';

const CORE = join(__dirname, '..', '..', 'lambdas', 'core');

const DROPPED_IN = `import { text } from '../record';
import type { Rule } from '../rule';

export const droppedIn: Rule = {
  id: 'Test.DroppedIn',
  severity: 'LOW',
  match: (record) => text(record, 'eventType') === 'test.dropped_in',
  title: () => 'dropped in',
};
`;

/** The ids of `DEFAULT_RULES` as the module at `indexFile` exports them, loaded afresh. */
function idsOf(indexFile: string): string[] {
  let rules: readonly Rule[] = [];
  jest.isolateModules(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- a module outside the repository, known only at run time
    rules = (require(indexFile) as { DEFAULT_RULES: readonly Rule[] }).DEFAULT_RULES;
  });
  return rules.map((rule) => rule.id);
}

/** Bundles `indexFile` as the Lambdas are bundled (CommonJS for Node, `define` of its directory) and loads it. */
async function bundledIds(indexFile: string, define: Record<string, string>, outfile: string): Promise<string[]> {
  await build({ entryPoints: [indexFile], outfile, bundle: true, platform: 'node', format: 'cjs', define, logLevel: 'silent' });
  return idsOf(outfile);
}

describe('the rule set (DEFAULT_RULES)', () => {
  it('holds a rule found in its own file', () => {
    expect(DEFAULT_RULES).toContain(bruteForceLogins);
  });

  it('comes from the modules of rules/ but its index', () => {
    expect(ruleFiles()).toContain('brute-force-logins.ts');
    expect(ruleFiles()).not.toContain('index.ts');
  });

  it('has distinct ids', () => {
    const ids = DEFAULT_RULES.map((rule) => rule.id);
    expect(ids.filter((id, index) => ids.indexOf(id) !== index)).toEqual([]);
  });
});

describe('a rule module dropped into rules/, with no other edit', () => {
  const root = mkdtempSync(join(tmpdir(), 'okta-log-pipeline-rules-'));
  const copy = join(root, 'core');
  const rulesDir = join(copy, 'detections', 'rules');
  const index = join(rulesDir, 'index.ts');
  const original = DEFAULT_RULES.map((rule) => rule.id);

  beforeAll(() => {
    cpSync(CORE, copy, { recursive: true });
    writeFileSync(join(rulesDir, 'dropped-in.ts'), DROPPED_IN);
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('runs from source', () => {
    expect(idsOf(index)).toEqual(expect.arrayContaining([...original, 'Test.DroppedIn']));
    expect(idsOf(index)).toHaveLength(original.length + 1);
  });

  it('is in the bundle built with the define the Lambdas get', async () => {
    const ids = await bundledIds(index, ruleFilesDefine(rulesDir), join(root, 'with-define.js'));
    expect(ids).toContain('Test.DroppedIn');
    expect(ids).toEqual(idsOf(index));
  });

  it('a bundle built without that define fails when it loads instead of running no detections', async () => {
    await expect(bundledIds(index, {}, join(root, 'without-define.js'))).rejects.toThrow(/no detection rule found/);
  });
});
