#!/usr/bin/env node
// The whole test run: type-check, the layer rules (docs/architecture.md), then every Jest suite (unit and end-to-end), then the failed tests
// by name and the one line CI reads: "N passed, N failed". Extra arguments go to Jest (e.g. a test file pattern).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (command, args, env = process.env) => spawnSync(command, args, { stdio: 'inherit', env }).status ?? 1;

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

const outDir = mkdtempSync(join(tmpdir(), 'nestjs-tus-jest-'));
const summaryFile = join(outDir, 'summary.json');
const status = run(
  process.execPath,
  [
    '--experimental-vm-modules',
    '--disable-warning=ExperimentalWarning',
    'node_modules/jest/bin/jest.js',
    ...process.argv.slice(2),
  ],
  { ...process.env, NESTJS_TUS_JEST_SUMMARY: summaryFile },
);

let passed = 0;
let failed = 0;
try {
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8'));
  passed = summary.passed;
  failed = summary.failed + summary.brokenSuites + summary.pending;
  if (summary.failures.length > 0) console.log(`\nFailed:\n${summary.failures.map((line) => `  ${line}`).join('\n')}\n`);
} catch {
  console.log('Jest wrote no summary (it did not finish its run)');
  failed = 1;
}
rmSync(outDir, { recursive: true, force: true });
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
