/**
 * `npm test` fails when lambdas/core imports AWS, Powertools, CDK or an adapter: the import rule of
 * eslint.config.mjs, run through ESLint's own Node API on snippets placed (by file path) inside and
 * outside lambdas/core. ESLint runs in a child process because it loads eslint.config.mjs with
 * import(), which jest's CommonJS runtime does not offer; type-aware rules are switched off there,
 * the import rule needs no types and the program would cost a full type-check per run.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

const REPO_ROOT = join(__dirname, '..', '..');
/** A cap for a hung child, not a timing assertion. */
const CHILD_TIMEOUT_MS = 120_000;
const RULE = '@typescript-eslint/no-restricted-imports';

interface Case {
  readonly filePath: string;
  readonly code: string;
}

interface LintMessage {
  readonly ruleId: string | null;
  readonly message: string;
  readonly fatal?: boolean;
}

const LINT_SCRIPT = `
import { ESLint } from 'eslint';
import tseslint from 'typescript-eslint';
const cases = JSON.parse(process.argv[1]);
const eslint = new ESLint({ cwd: process.cwd(), overrideConfig: tseslint.configs.disableTypeChecked });
const out = [];
for (const { filePath, code } of cases) {
  const [result] = await eslint.lintText(code, { filePath });
  out.push(result.messages.map(({ ruleId, message, fatal }) => ({ ruleId, message, fatal })));
}
process.stdout.write(JSON.stringify(out));
`;

function lint(cases: readonly Case[]): Promise<LintMessage[][]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['--input-type=module', '-e', LINT_SCRIPT, JSON.stringify(cases)],
      { cwd: REPO_ROOT, timeout: CHILD_TIMEOUT_MS },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`eslint child failed: ${error.message}\n${stderr}`));
        else resolve(JSON.parse(stdout) as LintMessage[][]);
      },
    );
  });
}

const CORE_FILE = join(REPO_ROOT, 'lambdas', 'core', 'pull', 'lint-probe.ts');
const ADAPTER_FILE = join(REPO_ROOT, 'lambdas', 'adapters', 'aws', 'lint-probe.ts');

const CASES = {
  sdkInCore: {
    filePath: CORE_FILE,
    code: "import { KinesisClient } from '@aws-sdk/client-kinesis';\nexport const client = new KinesisClient({});\n",
  },
  adapterInCore: {
    filePath: CORE_FILE,
    code: "import { KinesisRecordSink } from '../../adapters/aws/kinesis-record-sink';\nexport type Sink = KinesisRecordSink;\n",
  },
  cdkInCore: { filePath: CORE_FILE, code: "import { Duration } from 'aws-cdk-lib';\nexport const minute = Duration.minutes(1);\n" },
  powertoolsInCore: {
    filePath: CORE_FILE,
    code: "import { Logger } from '@aws-lambda-powertools/logger';\nexport const logger = new Logger();\n",
  },
  localInCore: { filePath: CORE_FILE, code: "export { startOktaOrg } from '../../../local/okta-emulator';\n" },
  cleanCore: {
    filePath: CORE_FILE,
    code: "import { createHash } from 'node:crypto';\nimport type { Clock } from '../ports';\nexport const digest = (clock: Clock): string => createHash('sha256').update(String(clock.now())).digest('hex');\n",
  },
  sdkInAdapter: {
    filePath: ADAPTER_FILE,
    code: "import { KinesisClient } from '@aws-sdk/client-kinesis';\nexport const client = new KinesisClient({});\n",
  },
} satisfies Record<string, Case>;

const NAMES = Object.keys(CASES) as Array<keyof typeof CASES>;
let results: Record<keyof typeof CASES, LintMessage[]>;

beforeAll(async () => {
  const messages = await lint(NAMES.map((name) => CASES[name]));
  results = Object.fromEntries(NAMES.map((name, index) => [name, messages[index] ?? []])) as typeof results;
});

const ruleIds = (messages: LintMessage[]): Array<string | null> => messages.map((message) => message.ruleId);

describe('lambdas/core imports no AWS SDK, Powertools, CDK or adapter', () => {
  it.each([['sdkInCore'], ['adapterInCore'], ['cdkInCore'], ['powertoolsInCore'], ['localInCore']] as const)('fails %s', (name) => {
    expect(ruleIds(results[name])).toEqual([RULE]);
  });

  it('names the way out in the message', () => {
    expect(results.sdkInCore[0]?.message).toContain('through a port');
    expect(results.adapterInCore[0]?.message).toContain('lambdas/core/ports.ts');
  });

  it('passes a core file that imports only node: modules and core', () => {
    expect(results.cleanCore).toEqual([]);
  });

  it('lets the adapters import the AWS SDK: the rule is for lambdas/core only', () => {
    expect(results.sdkInAdapter).toEqual([]);
  });
});
