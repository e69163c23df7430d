import type { S3TestServer } from './servers/rgw.mjs';
import type { AzuriteProcess } from './servers/azurite-process.mjs';

/** Stops the S3 server and the Azurite global-setup.ts started (ones given by `S3_ENDPOINT` or `AZURITE_PORT` are left alone). */
export default async function globalTeardown(): Promise<void> {
  const state = globalThis as { __tusS3Server?: S3TestServer; __tusAzurite?: Pick<AzuriteProcess, 'stop'> };
  await Promise.all([state.__tusS3Server?.stop(), state.__tusAzurite?.stop()]);
}
