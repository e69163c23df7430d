import type { S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesReachedS3, inspectS3Upload } from './s3-inspection.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../servers/s3-server.js';

/** A folder or bucket the sample processes of a test store in, read behind their backs. */
export interface SampleStore {
  name: 'file' | 's3';
  setUp(): Promise<void>;
  /** The sample's environment for storing here. */
  env(): Record<string, string>;
  /** Bytes of the upload its record counts (file: the data file's size; S3: recorded parts + `.pending`). */
  stored(id: string): Promise<number>;
  /** Bytes of the upload that reached storage, recorded or not (S3: every part of every multipart upload + `.pending`). */
  reached(id: string): Promise<number>;
  /** Names stored beside the upload's bytes and `.info` (markers, locks, strays). */
  extras(id: string): Promise<string[]>;
  tearDown(): Promise<void>;
}

/** A temporary upload folder (file backend). */
export function folderStore(): SampleStore {
  let dir = '';
  const size = async (id: string) => (await stat(join(dir, id))).size;
  return {
    name: 'file',
    setUp: async () => {
      dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-store-'));
    },
    env: () => ({ UPLOAD_DIR: dir }),
    stored: size,
    reached: size,
    extras: async (id) => (await readdir(dir)).filter((name) => name.startsWith(`${id}.`) && name !== `${id}.info`),
    tearDown: () => rm(dir, { recursive: true, force: true }),
  };
}

/** A bucket of its own on the test S3 server (S3 backend). */
export function bucketStore(): SampleStore {
  let client: S3Client;
  let made: { bucket: string; dispose(): Promise<void> };
  return {
    name: 's3',
    setUp: async () => {
      client = createTestS3Client(s3ServerFromEnv());
      made = await createTestBucket(client, 'store');
    },
    env: () => sampleS3Env(s3ServerFromEnv(), made.bucket),
    stored: async (id) => (await inspectS3Upload(client, made.bucket, id)).durable,
    reached: (id) => bytesReachedS3(client, made.bucket, id),
    extras: async (id) => {
      const snapshot = await inspectS3Upload(client, made.bucket, id);
      return snapshot.strays > 0 ? [`${snapshot.strays} stray object(s) or multipart upload(s)`] : [];
    },
    tearDown: async () => {
      await made?.dispose();
      client?.destroy();
    },
  };
}
