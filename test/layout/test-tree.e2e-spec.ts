import { describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// The layout test/README.md describes, kept: specs in the folder of what they cover (never directly
// in test/, never among the helpers), every such folder listed in the README, and Jest finding them
// all. Jest runs from the repository root, as the other specs assume (resolve('dist/...')).
const ROOT = resolve('.');
const TEST = join(ROOT, 'test');

/** Every file under `dir`, as paths relative to the repository root with '/' separators. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(ROOT, join(entry.parentPath, entry.name)).split('\\').join('/'));
}

const isSpec = (path: string) => path.endsWith('.e2e-spec.ts');
/** The folder of `test/` a path is in: `protocol` for `test/protocol/patch.e2e-spec.ts`, '' for `test/x.ts`. */
const folderOf = (path: string) => (path.split('/').length > 2 ? path.split('/')[1]! : '');

describe('the test tree', () => {
  it('has no spec directly in test/: each goes in the folder of what it covers', async () => {
    const specs = (await filesUnder(TEST)).filter(isSpec);
    expect(specs.length).toBeGreaterThan(0);
    expect(specs.filter((path) => folderOf(path) === '')).toEqual([]);
  });

  it('keeps test/support/ for helpers: no spec there', async () => {
    expect((await filesUnder(join(TEST, 'support'))).filter(isSpec)).toEqual([]);
  });

  it('has exactly the spec folders test/README.md lists', async () => {
    const readme = await readFile(join(TEST, 'README.md'), 'utf8');
    const listed = [...readme.matchAll(/^\| `([a-z0-9-]+)\/` \|/gm)].map((match) => match[1]!);
    // A spec directly in test/ (folder '') is the first test's failure, not this one's.
    const holding = [...new Set((await filesUnder(TEST)).filter(isSpec).map(folderOf))].filter((folder) => folder !== '');
    expect(listed.length).toBeGreaterThan(0);
    expect(holding.sort()).toEqual([...listed].sort());
  });

  it('is what Jest runs: its testRegex matches every spec and no helper, and its global setup and teardown exist', async () => {
    const { default: config } = (await import(pathToFileURL(join(ROOT, 'jest.config.js')).href)) as {
      default: { testRegex: string[]; globalSetup: string; globalTeardown: string };
    };
    const regexes = config.testRegex.map((source) => new RegExp(source));
    const runs = (path: string) => regexes.some((regex) => regex.test(path));
    const files = (await filesUnder(TEST)).filter((path) => path.endsWith('.ts'));
    expect(files.filter((path) => isSpec(path) && !runs(path))).toEqual([]);
    expect(files.filter((path) => !isSpec(path) && runs(path))).toEqual([]);
    for (const hook of [config.globalSetup, config.globalTeardown]) expect(existsSync(hook.replace('<rootDir>', ROOT))).toBe(true);
  });
});
