#!/usr/bin/env node
// The whole test run: type-check, the layer rules (docs/architecture.md), then every Jest suite (unit and
// end-to-end) on the Node that runs this
// script, then most of them again on each other supported Node version (scripts/node-versions.mjs: which
// suites and why; TUS_NODE_VERSIONS=none skips them), then the failed tests by name and Node version, and
// the one line CI reads: "N passed, N failed", summed over every run. Extra arguments go to every Jest run
// (e.g. a test file pattern).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureNode, requestedNodeVersions, SKIPPED_ON_OTHER_VERSIONS } from './node-versions.mjs';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const jestArgs = process.argv.slice(2);
const run = (command, args, env = process.env) => spawnSync(command, args, { stdio: 'inherit', env, cwd: ROOT }).status ?? 1;
const seconds = (since) => `${Math.round((Date.now() - since) / 1000)} s`;

console.log('> tsc --noEmit');
if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) !== 0) {
  console.log('type-check failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

console.log('> node scripts/check-architecture.mjs');
if (run(process.execPath, ['scripts/check-architecture.mjs']) !== 0) {
  console.log('the layer rules of docs/architecture.md are broken');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

let versions;
try {
  versions = requestedNodeVersions();
} catch (error) {
  console.log(error.message);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const outDir = mkdtempSync(join(tmpdir(), 'nestjs-tus-jest-'));

/** One Jest run under `node`; its counts and failures, each failure prefixed with `label`. */
function jest(label, node, args, env) {
  const summaryFile = join(outDir, `summary-${label.replace(/\W+/g, '-')}.json`);
  const started = Date.now();
  console.log(`\n> ${label}: jest ${args.join(' ')}`);
  const status = run(node, ['--experimental-vm-modules', '--disable-warning=ExperimentalWarning', 'node_modules/jest/bin/jest.js', ...args], {
    ...env,
    NESTJS_TUS_JEST_SUMMARY: summaryFile,
  });
  const result = { label, passed: 0, failed: 0, failures: [], summary: false, took: '' };
  try {
    const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
    result.summary = true;
    result.passed = summary.passed;
    result.failed = summary.failed + summary.brokenSuites + summary.pending;
    result.failures = summary.failures.map((line) => `[${label}] ${line}`);
  } catch {
    result.failures.push(`[${label}] Jest wrote no summary (it did not finish its run)`);
    result.failed = 1;
  }
  if (status !== 0 && result.failed === 0) {
    result.failed = 1;
    result.failures.push(`[${label}] Jest exited with ${status}`);
  }
  result.took = seconds(started);
  console.log(`< ${label}: ${result.passed} passed, ${result.failed} failed in ${result.took}`);
  return result;
}

const results = [jest(`Node ${process.versions.node}`, process.execPath, jestArgs, process.env)];

const skipped = ['/node_modules/', ...SKIPPED_ON_OTHER_VERSIONS.map(([pattern]) => pattern)];
for (const major of versions) {
  let node;
  try {
    node = ensureNode(ROOT, major);
  } catch (error) {
    console.log(`\n${error.message}`);
    results.push({ label: `Node ${major}`, passed: 0, failed: 1, failures: [`[Node ${major}] ${error.message}`], took: '0 s' });
    continue;
  }
  const env = {
    ...process.env,
    // Anything that runs `node` by name (npx, scripts) gets this version too.
    PATH: `${dirname(node.bin)}${delimiter}${process.env.PATH}`,
    // The first run's global set-up built dist/ (the sample app and the library the process tests start);
    // if it did not get that far, this run builds it itself.
    ...(results[0].summary ? { NESTJS_TUS_PREBUILT: '1' } : {}),
  };
  results.push(
    jest(`Node ${node.version}`, node.bin, [...skipped.map((pattern) => `--testPathIgnorePatterns=${pattern}`), '--passWithNoTests', ...jestArgs], env),
  );
}
rmSync(outDir, { recursive: true, force: true });

const passed = results.reduce((sum, result) => sum + result.passed, 0);
const failed = results.reduce((sum, result) => sum + result.failed, 0);
const failures = results.flatMap((result) => result.failures);
console.log(`\n${results.map((result) => `${result.label}: ${result.passed} passed, ${result.failed} failed (${result.took})`).join('\n')}`);
if (failures.length > 0) console.log(`\nFailed:\n${failures.map((line) => `  ${line}`).join('\n')}\n`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
