/**
 * docs/SECURITY.md claims a test for every mitigation. This keeps the claim true: every test it
 * names must exist under that name in that file, and the dependency pinning it promises must hold.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

/** The (file, test name) pairs of the "Test:" / "Tests:" paragraphs of SECURITY.md, in order. */
function namedTests(markdown: string): Array<{ file: string; name: string }> {
  const pairs: Array<{ file: string; name: string }> = [];
  let inTests = false;
  let file: string | undefined;
  for (const line of markdown.split('\n')) {
    if (/^\s*(- |#|$)/.test(line)) inTests = false;
    const start = line.search(/Tests?: /);
    if (start >= 0) inTests = true;
    if (!inTests) continue;
    for (const token of line.slice(Math.max(0, start)).matchAll(/`(test\/[^`]+\.ts)`|"([^"]+)"/g)) {
      if (token[1] !== undefined) file = token[1];
      else if (file !== undefined && token[2] !== undefined) pairs.push({ file, name: token[2] });
    }
  }
  return pairs;
}

describe('docs/SECURITY.md', () => {
  const pairs = namedTests(read('docs/SECURITY.md'));

  it('names a test for every threat it lists (each "- **…**" item of its threats section)', () => {
    const markdown = read('docs/SECURITY.md');
    const section = markdown.slice(
      markdown.indexOf('## Threats, mitigations'),
      markdown.indexOf('\n## ', markdown.indexOf('## Threats, mitigations')),
    );
    const threats = section.split(/\n(?=- \*\*)/).slice(1);
    expect(threats).not.toEqual([]);
    expect(threats.filter((threat) => namedTests(threat).length === 0).map((threat) => threat.slice(0, 80))).toEqual([]);
  });

  it.each(pairs.map((pair) => [pair.file, pair.name]))('names a test that exists: %s › %s', (file, name) => {
    expect(existsSync(join(ROOT, file))).toBe(true);
    const source = read(file);
    expect([`'${name}'`, `"${name}"`, `\`${name}\``].some((quoted) => source.includes(quoted))).toBe(true);
  });
});

describe('dependency pinning', () => {
  it('pins every dependency to an exact version, locked with integrity hashes', () => {
    const manifest = JSON.parse(read('package.json')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const declared = { ...manifest.dependencies, ...manifest.devDependencies };
    // The manifest as read holds what the Lambdas import (the check below is not run over nothing).
    expect(Object.keys(declared)).toEqual(expect.arrayContaining(['@aws-sdk/client-kinesis', 'ajv', 'jose']));
    // An exact version, with its pre-release tag when the package only publishes those
    // (@duckdb/node-api releases are `<DuckDB version>-r.<n>`); never a range.
    for (const [name, version] of Object.entries(declared))
      expect(`${name}@${version}`).toMatch(/@\d+\.\d+\.\d+(-[0-9A-Za-z]+(\.[0-9A-Za-z]+)*)?$/);

    const lock = JSON.parse(read('package-lock.json')) as {
      lockfileVersion: number;
      packages: Record<string, { version?: string; integrity?: string; link?: boolean; inBundle?: boolean }>;
    };
    expect(lock.lockfileVersion).toBeGreaterThanOrEqual(2);
    for (const [name, version] of Object.entries(declared)) expect(lock.packages[`node_modules/${name}`]?.version).toBe(version);
    // Packages shipped inside another package's tarball (aws-cdk-lib bundles some) are covered by its hash.
    const unhashed = Object.entries(lock.packages).filter(
      ([path, entry]) => path !== '' && entry.integrity === undefined && entry.link !== true && entry.inBundle !== true,
    );
    expect(unhashed.map(([path]) => path)).toEqual([]);
  });
});
