import type { TusModuleOptions } from 'nestjs-tus';
import { S3StorageBackend } from 'nestjs-tus/s3';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../servers/s3-server.js';

/** A storage backend the end-to-end tests run against, as module options. */
export interface BackendFixture {
  name: 'file' | 's3';
  /** Module options selecting this backend, fresh for one app; `cleanup` removes what it stored. */
  create(): Promise<{ options: TusModuleOptions; cleanup(): Promise<void> }>;
}

export const fileBackend: BackendFixture = {
  name: 'file',
  // startTusApp gives each app its own temporary uploadDir.
  create: async () => ({ options: {}, cleanup: async () => undefined }),
};

export const s3Backend: BackendFixture = {
  name: 's3',
  create: async () => {
    const client = createTestS3Client(s3ServerFromEnv());
    const { bucket, dispose } = await createTestBucket(client, 'e2e');
    return {
      options: { storage: new S3StorageBackend({ client, bucket, keyPrefix: 'uploads/' }) },
      cleanup: async () => {
        await dispose();
        client.destroy();
      },
    };
  },
};

/** Every backend: feature tests run once per entry (`describe.each(BACKENDS)`). */
export const BACKENDS: BackendFixture[] = [fileBackend, s3Backend];
