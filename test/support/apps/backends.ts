import type { TusModuleOptions } from 'nestjs-tus';
import { S3StorageBackend } from 'nestjs-tus/s3';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../servers/s3-server.js';
import { azureBackendFixture, sharedAzurite } from '../servers/azurite.js';

/** A storage backend the end-to-end tests run against, as module options. */
export interface BackendFixture {
  name: 'file' | 's3' | 'azure';
  /**
   * Where the bytes go. In an object store (S3, Azure Blob Storage) the bytes of an unfinished
   * upload are not readable (the backend has no `readsUnfinished`), an upload's lock is an object
   * or a leased blob rather than a lock file, and a write's progress is recorded a part or a block
   * at a time rather than byte by byte.
   */
  kind: 'file system' | 'object store';
  /**
   * The `backend` label of its metrics and the `tus.storage.backend` of its spans: the backend's
   * class name less `StorageBackend`, lower-cased (`backendName` in the library).
   */
  label: string;
  /** Module options selecting this backend, fresh for one app; `cleanup` removes what it stored. */
  create(): Promise<{ options: TusModuleOptions; cleanup(): Promise<void> }>;
}

export const fileBackend: BackendFixture = {
  name: 'file',
  kind: 'file system',
  label: 'file',
  // startTusApp gives each app its own temporary uploadDir.
  create: async () => ({ options: {}, cleanup: async () => undefined }),
};

export const s3Backend: BackendFixture = {
  name: 's3',
  kind: 'object store',
  label: 's3',
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

/** A fresh container per app on the run's shared Azurite (the jest globalSetup starts it). */
export const azureBackend: BackendFixture = {
  name: 'azure',
  kind: 'object store',
  // AzureBlobStorageBackend: not `azure`. The README names the labels `file`, `s3`, or a custom
  // backend's class name; the Azure backend is labelled by that last rule.
  label: 'azureblob',
  create: () => azureBackendFixture(sharedAzurite()).create(),
};

/** Every backend: feature tests run once per entry (`describe.each(BACKENDS)`). */
export const BACKENDS: BackendFixture[] = [fileBackend, s3Backend, azureBackend];

/** Whether the backend stores in an object store (see {@link BackendFixture.kind}). */
export const isObjectStore = (backend: Pick<BackendFixture, 'kind'>): boolean => backend.kind === 'object store';
