import { execFileSync } from 'node:child_process';
import { exportS3Server, startS3Server } from './servers/rgw.mjs';

/**
 * Once per test run: builds the library and the sample app (the multi-process, browser and sample
 * tests run them as real processes), and starts the S3 server the S3 tests use (Ceph RGW on
 * loopback, installed if missing, or the one `S3_ENDPOINT` names). Jest's workers inherit the
 * S3_* variables; global-teardown.ts stops the server. `NESTJS_TUS_PREBUILT=1` (set by scripts/test.mjs
 * for its runs on other Node versions, after the first run built dist/) skips the build.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.NESTJS_TUS_PREBUILT !== '1') {
    execFileSync('npx', ['nest', 'build', 'tus'], { stdio: 'inherit' });
    execFileSync('npx', ['nest', 'build', 'sample'], { stdio: 'inherit' });
  }
  const started = Date.now();
  const server = await startS3Server();
  console.log(`\nS3 test server ${server.endpoint} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  exportS3Server(server);
  (globalThis as { __tusS3Server?: typeof server }).__tusS3Server = server;
}
