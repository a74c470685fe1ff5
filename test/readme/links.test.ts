/** Every relative link of the user docs leads somewhere: an existing file, and an existing heading. */
import { existsSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { anchors, links, readDoc, REPO_ROOT, userDocs, type MarkdownDoc } from './markdown';

const docs = userDocs();

function isRelative(target: string): boolean {
  return !/^[a-z][a-z0-9+.-]*:/i.test(target);
}

/** What the link points at, or why it points nowhere. */
function resolveLink(doc: MarkdownDoc, target: string): string {
  const [pathPart = '', anchor] = target.split('#', 2);
  const file = pathPart === '' ? doc.path : normalize(join(dirname(doc.path), decodeURIComponent(pathPart)));
  if (file.startsWith('..')) return `outside the repository (${file})`;
  if (!existsSync(join(REPO_ROOT, file))) return `missing file ${file}`;
  if (anchor === undefined) return 'ok';
  if (!file.endsWith('.md')) return `an anchor into ${file}, which has no headings`;
  return anchors(file === doc.path ? doc : readDoc(file)).has(anchor) ? 'ok' : `no heading #${anchor} in ${file}`;
}

test('the docs have relative links to check (the extractor is not blind)', () => {
  const all = docs.flatMap((doc) => links(doc).filter((link) => isRelative(link.target)));
  expect(all.length).toBeGreaterThanOrEqual(5);
  expect(all.map((link) => link.target)).toEqual(expect.arrayContaining(['#deploy', 'docs/ALARMS.md#runbooks']));
});

test.each(docs.map((doc) => [doc.path, doc] as const))('every relative link of %s resolves', (_path, doc) => {
  const verdicts = links(doc)
    .filter((link) => isRelative(link.target))
    .map((link) => `${doc.path}:${link.line} [${link.text}](${link.target}): ${resolveLink(doc, link.target)}`);
  expect(verdicts.filter((verdict) => !verdict.endsWith(': ok'))).toEqual([]);
});

test('the anchor rules match GitHub: punctuation dropped, spaces to hyphens, repeats numbered', () => {
  const doc: MarkdownDoc = {
    path: 'x.md',
    text: '',
    blocks: [],
    prose: '# Alarms, runbooks and deployment options\n## `sources add` (tests it first)\n## Runbooks\n## Runbooks\n',
  };
  expect([...anchors(doc)]).toEqual(['alarms-runbooks-and-deployment-options', 'sources-add-tests-it-first', 'runbooks', 'runbooks-1']);
});
