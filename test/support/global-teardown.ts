import type { S3TestServer } from './servers/rgw.mjs';

/** Stops the S3 server global-setup.ts started (one given by `S3_ENDPOINT` is left alone). */
export default async function globalTeardown(): Promise<void> {
  await (globalThis as { __tusS3Server?: S3TestServer }).__tusS3Server?.stop();
}
