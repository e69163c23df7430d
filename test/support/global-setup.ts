import { execFileSync } from 'node:child_process';
import { exportS3Server, startS3Server } from './servers/rgw.mjs';
import { exportAzurite, startAzuriteProcess, type AzuriteProcess } from './servers/azurite-process.mjs';

/**
 * Once per test run: builds the library and the sample app (the multi-process, browser and sample
 * tests run them as real processes), and starts the S3 server the S3 tests use (Ceph RGW on
 * loopback, installed if missing, or the one `S3_ENDPOINT` names) and the Azurite the Azure tests
 * use (the `azurite` devDependency on a free loopback port, or the one `AZURITE_PORT` names). Jest's
 * workers inherit the S3_* and AZURITE_PORT variables; global-teardown.ts stops what was started.
 * `NESTJS_TUS_PREBUILT=1` (set by scripts/test.mjs for its runs on other Node versions, after the
 * first run built dist/) skips the build.
 */
export default async function globalSetup(): Promise<void> {
  if (process.env.NESTJS_TUS_PREBUILT !== '1') {
    execFileSync('npx', ['nest', 'build', 'tus'], { stdio: 'inherit' });
    execFileSync('npx', ['nest', 'build', 'sample'], { stdio: 'inherit' });
  }
  const started = Date.now();
  const [server, azurite] = await Promise.all([startS3Server(), startSharedAzurite()]);
  console.log(`\nS3 test server ${server.endpoint} and Azurite on port ${azurite.port} ready in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  exportS3Server(server);
  exportAzurite(azurite);
  const state = globalThis as { __tusS3Server?: typeof server; __tusAzurite?: Pick<AzuriteProcess, 'stop'> };
  state.__tusS3Server = server;
  state.__tusAzurite = azurite;
}

/** The Azurite `AZURITE_PORT` names (left running at the end), or a new one. */
async function startSharedAzurite(): Promise<Pick<AzuriteProcess, 'port' | 'stop'>> {
  if (process.env.AZURITE_PORT) return { port: Number(process.env.AZURITE_PORT), stop: async () => undefined };
  return startAzuriteProcess();
}
