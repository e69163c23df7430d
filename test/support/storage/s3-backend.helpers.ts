import { HeadObjectCommand, ListMultipartUploadsCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ChunkSource } from '../../../libs/tus/src/storage/tus-storage-backend.interface.js';
import type { TusStorageBackend } from '../../../libs/tus/src/storage/tus-storage-backend.interface.js';
import type { UploadInfo } from '../../../libs/tus/src/upload-info.js';

/**
 * A chunk whose stream yields `data` in pieces of `pieceSize` bytes (odd by default, so that
 * pieces straddle part boundaries); `failAfter` breaks the body after that many bytes, as a lost
 * connection does.
 */
export function chunkFrom(
  data: Buffer,
  options: Partial<Omit<ChunkSource, 'stream'>> & { pieceSize?: number; failAfter?: number } = {},
): ChunkSource {
  const { pieceSize = 65_537, failAfter, ...rest } = options;
  const stream = Readable.from(
    (async function* () {
      const end = failAfter ?? data.length;
      for (let start = 0; start < end; start += pieceSize) yield data.subarray(start, Math.min(start + pieceSize, end));
      if (failAfter !== undefined) throw new Error('connection reset');
    })(),
  );
  return { stream, stages: [], verify: async () => undefined, keepOnInterrupt: true, ...rest };
}

export async function readAll(backend: TusStorageBackend, upload: UploadInfo, range?: { start?: number; end?: number }): Promise<Buffer> {
  return buffer(await backend.createReadStream(upload, range));
}

/** Every key under `prefix`. */
export async function keysUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    keys.push(...(page.Contents ?? []).map((object) => object.Key!));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys.sort();
}

/** Keys of the multipart uploads in progress under `prefix`. */
export async function multipartUploadsUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Uploads ?? []).map((upload) => upload.Key!);
}

/** The ETag of an object; a multipart object's ends with `-<number of parts>`. */
export async function etagOf(client: S3Client, bucket: string, key: string): Promise<string> {
  return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? '';
}
