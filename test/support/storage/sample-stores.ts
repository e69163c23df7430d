import type { S3Client } from '@aws-sdk/client-s3';
import type { ContainerClient } from '@azure/storage-blob';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesReachedS3, inspectS3Upload } from './s3-inspection.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../servers/s3-server.js';
import { sampleAzureEnv, sharedAzurite } from '../servers/azurite.js';
import { blobsUnder, inspectAzureUpload, uncommittedBlocks } from './azure-inspection.js';

/** The sample's S3 part size and Azure block size (the backends' defaults). */
const MiB = 1024 * 1024;
const SAMPLE_PART_SIZE = 8 * MiB;

/** A folder, bucket or container the sample processes of a test store in, read behind their backs. */
export interface SampleStore {
  name: 'file' | 's3' | 'azure';
  /** Where the bytes go (see BackendFixture.kind). */
  kind: 'file system' | 'object store';
  /**
   * A write's progress is recorded in whole units of this many bytes, counted from the request's
   * first byte: 1 on a file system (every byte written is stored), the part size on S3 and the
   * block size on Azure (8 MiB: bytes short of one wait in the process's memory until the request
   * ends, and die with it).
   */
  recordedIn: number;
  setUp(): Promise<void>;
  /** The sample's environment for storing here. */
  env(): Record<string, string>;
  /** Bytes of the upload its record counts (file: the data file's size; S3: recorded parts + `.pending`; Azure: recorded blocks). */
  stored(id: string): Promise<number>;
  /**
   * Bytes of the upload that reached storage, recorded or not (S3: every part of every multipart
   * upload + `.pending`; Azure: every staged block, and the committed blob).
   */
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
    kind: 'file system',
    recordedIn: 1,
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
    kind: 'object store',
    recordedIn: SAMPLE_PART_SIZE,
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

/** A container of its own on the run's shared Azurite (Azure backend, blob names without a prefix). */
export function containerStore(): SampleStore {
  let made: { container: ContainerClient; dispose(): Promise<void> } | undefined;
  const container = () => made!.container;
  return {
    name: 'azure',
    kind: 'object store',
    recordedIn: SAMPLE_PART_SIZE,
    setUp: async () => {
      made = await sharedAzurite().createContainer('store');
    },
    env: () => sampleAzureEnv(sharedAzurite(), container().containerName),
    stored: async (id) => (await inspectAzureUpload(container(), id)).durable,
    reached: async (id) => {
      const staged = [...(await uncommittedBlocks(container(), id)).values()].reduce((sum, size) => sum + size, 0);
      const committed = (await container().getBlockBlobClient(id).getProperties().catch(() => null))?.contentLength ?? 0;
      return staged + committed;
    },
    // Blocks no record names are left by a request cut off or refused until the upload's commit
    // discards them: counted as extras, like S3's stray parts.
    extras: async (id) => {
      const blobs = (await blobsUnder(container(), id)).filter((name) => name !== id && name !== `${id}.info`);
      const unrecorded = (await inspectAzureUpload(container(), id)).unrecordedBytes;
      return unrecorded > 0 ? [...blobs, `${unrecorded} bytes of staged blocks no record names`] : blobs;
    },
    tearDown: async () => {
      await made?.dispose();
    },
  };
}
