import { execFileSync } from 'node:child_process';

/**
 * Once per test run: builds the library and the sample app, which the multi-process, browser and
 * sample tests run as real processes.
 */
export default async function globalSetup(): Promise<void> {
  execFileSync('npx', ['nest', 'build', 'tus'], { stdio: 'inherit' });
  execFileSync('npx', ['nest', 'build', 'sample'], { stdio: 'inherit' });
}
