// The other Node versions the test command runs the suite on (besides the Node that runs it), which
// suites they run, and where their binaries come from: the npm registry's `node-<os>-<cpu>` packages,
// installed into .cache/node-<major>/ (git ignores .cache/) the first time and used from there after.
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

/** The majors `npm test` also runs on unless TUS_NODE_VERSIONS says otherwise: the LTS and the current release. */
export const DEFAULT_NODE_VERSIONS = ['24', '26'];

/**
 * Suites the other versions leave out (regular expressions on the test file's path, for Jest's
 * --testPathIgnorePatterns), each with the reason: they test something besides Node (a browser, npm
 * and tsc, nginx) or only the module's own configuration and bookkeeping, which no Node version
 * changes. Everything else, including any new suite, runs on every version: the HTTP server's
 * handling of bodies, timeouts, cut and stalled connections (patch, slow-clients, stalled-requests,
 * network-faults, fuzz, races), streams and the file system (protocol suites, file-storage,
 * disk-full, cleanup, expiration), child processes and signals (crash*, shutdown, cross-process-lock,
 * process-identity), the S3 and Azure SDKs' HTTP clients (s3-*, azure-*), tus-js-client, and the unit specs.
 */
export const SKIPPED_ON_OTHER_VERSIONS = [
  ['/test/platforms/(ietf-)?sample-page\\.e2e-spec\\.ts$', 'drives Chromium: tests the browser and the sample page, not Node'],
  ['/test/platforms/package\\.e2e-spec\\.ts$', 'npm pack, npm install and TypeScript: the package as published, built once'],
  ['/test/platforms/(ietf-)?proxy\\.e2e-spec\\.ts$', "nginx in front of the app: tests nginx, the forwarded headers and what nginx makes of the draft's 104"],
  ['/test/protocol/(authorization|cors|events|module-config|app-errors|storage-service)\\.e2e-spec\\.ts$', "the module's options, hooks and errors: Nest code paths, not Node's"],
  ['/test/operations/(metrics|sample-metrics|tracing|health)\\.e2e-spec\\.ts$', 'prom-client, OpenTelemetry and Terminus bookkeeping'],
  ['/test/platforms/sample\\.e2e-spec\\.ts$', "the sample app's page and settings (s3-sample runs the sample process on every version)"],
  ['/test/layout/', "the test tree's own layout"],
];

/**
 * The versions to run from TUS_NODE_VERSIONS: unset, {@link DEFAULT_NODE_VERSIONS}; `none` (or empty),
 * none; else a comma-separated list of majors (e.g. `24`). Majors equal to the running Node's are dropped.
 */
export function requestedNodeVersions(env = process.env) {
  const raw = env.TUS_NODE_VERSIONS;
  const list = raw === undefined ? DEFAULT_NODE_VERSIONS : raw.trim() === '' || raw.trim() === 'none' ? [] : raw.split(',').map((v) => v.trim()).filter(Boolean);
  for (const major of list) {
    if (!/^\d+$/.test(major)) throw new Error(`TUS_NODE_VERSIONS: "${major}" is not a major version (e.g. TUS_NODE_VERSIONS=24,26, or none)`);
  }
  const own = process.versions.node.split('.')[0];
  return [...new Set(list)].filter((major) => major !== own);
}

/**
 * The path of a `node` of the given major: .cache/node-<major>/ when a working one is there (no network
 * used), else installed there from the npm registry (`--prefer-offline`: npm's cache serves it when it
 * holds it). Throws, saying why, when neither works.
 */
export function ensureNode(root, major) {
  const pkg = `node-${process.platform}-${process.arch}`;
  const dir = join(root, '.cache', `node-${major}`);
  const bin = join(dir, 'node_modules', pkg, 'bin', 'node');
  const cached = versionOf(bin);
  if (cached?.split('.')[0] === major) return { bin, version: cached, installed: false };

  rmSync(dir, { recursive: true, force: true });
  console.log(`> installing Node ${major} into ${dir} (npm package ${pkg}@${major})`);
  const npm = spawnSync(
    'npm',
    ['install', '--no-save', '--no-audit', '--no-fund', '--no-package-lock', '--prefer-offline', '--loglevel=error', '--prefix', dir, `${pkg}@${major}`],
    { stdio: ['ignore', 'inherit', 'inherit'], cwd: root },
  );
  const version = versionOf(bin);
  if (npm.status !== 0 || version?.split('.')[0] !== major) {
    throw new Error(
      `could not install Node ${major} from the npm registry (package ${pkg}@${major}, ${npm.error ? npm.error.message : `npm exit ${npm.status}`}${version ? `, got ${version}` : ''}); ` +
        'TUS_NODE_VERSIONS=none skips the other versions',
    );
  }
  return { bin, version, installed: true };
}

/** `node --version` of a binary without the "v", or undefined when it is missing or does not run. */
function versionOf(bin) {
  if (!existsSync(bin)) return undefined;
  const result = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim().replace(/^v/, '') : undefined;
}
