/**
 * Reads the user-facing markdown (README.md and docs/*.md) the way a reader meets it: fenced code
 * blocks, the prose outside them, links and headings. The tests take every command and example
 * from here, so a doc that changes is tested as changed, with no copy of it kept in the tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const REPO_ROOT = resolve(__dirname, '../..');

export interface CodeBlock {
  /** The info string after the opening fence, e.g. `sh` or `json` (empty when none). */
  readonly lang: string;
  readonly text: string;
  /** 1-based line of the opening fence, for messages. */
  readonly line: number;
}

export interface MarkdownDoc {
  /** Path relative to the repository root, e.g. `docs/ONBOARDING.md`. */
  readonly path: string;
  readonly text: string;
  readonly blocks: readonly CodeBlock[];
  /** The text outside fenced blocks, with each block replaced by as many empty lines. */
  readonly prose: string;
}

const FENCE = /^(`{3,}|~{3,})\s*([^`\s]*)/;

export function readDoc(path: string): MarkdownDoc {
  const text = readFileSync(join(REPO_ROOT, path), 'utf8');
  const blocks: CodeBlock[] = [];
  const proseLines: string[] = [];
  let open: { fence: string; lang: string; line: number; lines: string[] } | undefined;
  text.split('\n').forEach((line, index) => {
    const fence = FENCE.exec(line);
    if (open === undefined) {
      if (fence) open = { fence: fence[1]!, lang: fence[2] ?? '', line: index + 1, lines: [] };
      proseLines.push(fence ? '' : line);
      return;
    }
    proseLines.push('');
    if (fence && line.trim().startsWith(open.fence) && line.trim().replace(/[`~]/g, '') === '') {
      blocks.push({ lang: open.lang, text: open.lines.join('\n'), line: open.line });
      open = undefined;
    } else {
      open.lines.push(line);
    }
  });
  if (open !== undefined) throw new Error(`${path}:${open.line}: code fence is never closed`);
  return { path, text, blocks, prose: proseLines.join('\n') };
}

/** README.md and every markdown file under docs/. */
export function userDocs(): MarkdownDoc[] {
  const docs = readdirSync(join(REPO_ROOT, 'docs'))
    .filter((name) => name.endsWith('.md'))
    .sort()
    .map((name) => `docs/${name}`);
  return ['README.md', ...docs].map(readDoc);
}

/**
 * The inline code spans of the prose (single backticks; double-backtick spans are not used here).
 * A span may wrap onto the next line of its paragraph, which renders as one space.
 */
export function inlineCode(doc: MarkdownDoc): string[] {
  return [...doc.prose.matchAll(/`([^`]+)`/g)].map((match) => match[1]!.replace(/\s*\n\s*/g, ' '));
}

export interface Link {
  readonly text: string;
  readonly target: string;
  readonly line: number;
}

/** Inline links `[text](target)` of the prose; code spans are left out, as GitHub renders them literally. */
export function links(doc: MarkdownDoc): Link[] {
  const result: Link[] = [];
  doc.prose.split('\n').forEach((line, index) => {
    const withoutCode = line.replace(/`[^`]*`/g, (span) => span.replace(/[[\]()]/g, ' '));
    for (const match of withoutCode.matchAll(/\[([^\]]*)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      result.push({ text: match[1]!, target: match[2]!, line: index + 1 });
    }
  });
  return result;
}

/**
 * The anchors GitHub generates for the doc's headings: lower case, punctuation other than `-`
 * and `_` dropped, spaces to `-`, and `-1`, `-2` ... appended to repeats.
 */
export function anchors(doc: MarkdownDoc): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const match of doc.prose.matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)) {
    const slug = match[1]!
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    result.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return result;
}

/** The rows of the first table whose header row starts with `firstHeader`, as cell arrays. */
export function tableRows(doc: MarkdownDoc, firstHeader: string): string[][] {
  const lines = doc.prose.split('\n');
  const start = lines.findIndex((line) => new RegExp(`^\\|\\s*${firstHeader}\\s*\\|`).test(line));
  if (start < 0) throw new Error(`${doc.path}: no table with the header "${firstHeader}"`);
  const rows: string[][] = [];
  // Skip the header and the |---| separator.
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(splitRow(line));
  }
  return rows;
}

function splitRow(line: string): string[] {
  // `\|` inside a cell is an escaped pipe, not a column break.
  return line
    .replace(/^\||\|$/g, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
}
