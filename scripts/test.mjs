#!/usr/bin/env node
// The whole test run: type-check, then every Jest suite (unit and end-to-end), then the one line
// CI reads: "N passed, N failed". Extra arguments go to Jest (e.g. a test file pattern).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const run = (command, args) => spawnSync(command, args, { stdio: 'inherit' }).status ?? 1;

console.log('> tsc --noEmit');
if (run('npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']) !== 0) {
  console.log('type-check failed');
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const outDir = mkdtempSync(join(tmpdir(), 'nestjs-tus-jest-'));
const report = join(outDir, 'report.json');
const status = run(process.execPath, [
  '--experimental-vm-modules',
  '--disable-warning=ExperimentalWarning',
  'node_modules/jest/bin/jest.js',
  '--json',
  `--outputFile=${report}`,
  ...process.argv.slice(2),
]);

let passed = 0;
let failed = 0;
try {
  const result = JSON.parse(readFileSync(report, 'utf8'));
  passed = result.numPassedTests;
  // A suite that failed to load runs no test: count it, so a broken file is never a silent pass.
  failed = result.numFailedTests + result.numRuntimeErrorTestSuites + result.numPendingTests;
} catch {
  failed = 1;
}
rmSync(outDir, { recursive: true, force: true });
if (status !== 0 && failed === 0) failed = 1;
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
