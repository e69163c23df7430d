import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The page's folder, apps/sample/public. `nest build` copies no assets, so it is found from
 * wherever this file runs: apps/sample/src, or dist/apps/sample once built.
 */
export function pageDirectory(): string {
  const candidates = [resolve(here, '../public'), resolve(here, '../../../apps/sample/public')];
  const found = candidates.find((dir) => existsSync(join(dir, 'index.html')));
  if (found === undefined) throw new Error(`The sample page was not found in ${candidates.join(' or ')}`);
  return found;
}

/** tus-js-client's browser bundle (`tus.min.js`, a UMD script that defines `window.tus`), from node_modules. */
export function tusClientDirectory(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('tus-js-client/package.json')), 'dist');
}
