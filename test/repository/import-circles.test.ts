/**
 * No import circles in the source. A circle, even of type-only imports, means two modules each need
 * the other: the shared declarations belong in a module both depend on. madge
 * (https://github.com/pahen/madge) builds the graph, type-only imports included.
 */
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import madge from 'madge';

const REPO_ROOT = join(__dirname, '..', '..');
const SOURCE_FOLDERS = ['lambdas', 'lib', 'bin', 'local', 'schemas', 'bench'];
// Parsing 170 files takes madge 10-30 s on two busy cores; the bound only stops a hang.
const GRAPH_TIMEOUT_MS = 300_000;

async function importGraph(folders: readonly string[], baseDir: string) {
  return madge(
    folders.map((folder) => join(baseDir, folder)),
    {
      baseDir,
      fileExtensions: ['ts'],
      tsConfig: join(REPO_ROOT, 'tsconfig.json'),
    },
  );
}

// madge's TypeScript parser warns on every `import('…')` type it walks that its own caller still
// reads a deprecated AST property: noise about madge, not about this repository.
const emitWarning = process.emitWarning.bind(process) as (warning: string | Error, ...rest: unknown[]) => void;
beforeAll(() => {
  jest.spyOn(process, 'emitWarning').mockImplementation((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('deprecated on TSImportType nodes')) return;
    emitWarning(warning, ...rest);
  });
});
afterAll(() => jest.restoreAllMocks());

function typeScriptFiles(folder: string): string[] {
  return readdirSync(join(REPO_ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts'))
    .map((file) => relative(REPO_ROOT, join(REPO_ROOT, folder, file)));
}

test(
  'the checker finds a circle of type-only imports (test/fixtures/import-circle)',
  async () => {
    const graph = await importGraph(['test/fixtures/import-circle'], REPO_ROOT);
    expect(graph.circular()).toEqual([['test/fixtures/import-circle/first.ts', 'test/fixtures/import-circle/second.ts']]);
  },
  GRAPH_TIMEOUT_MS,
);

test(
  `no import circle in ${SOURCE_FOLDERS.join(', ')}, and every source file is in the graph`,
  async () => {
    const graph = await importGraph(SOURCE_FOLDERS, REPO_ROOT);
    expect(graph.warnings().skipped).toEqual([]);
    const reached = new Set(Object.keys(graph.obj()));
    expect(SOURCE_FOLDERS.flatMap(typeScriptFiles).filter((file) => !reached.has(file))).toEqual([]);
    expect(graph.circular()).toEqual([]);
  },
  GRAPH_TIMEOUT_MS,
);
