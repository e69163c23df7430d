import { GetObjectCommand, HeadObjectCommand, ListMultipartUploadsCommand, ListPartsCommand, type S3Client } from '@aws-sdk/client-s3';
import { keysUnder, multipartUploadsUnder } from './s3-backend.helpers.js';

/** What S3 holds of one upload of the S3 backend, read behind the server's back. */
export interface S3UploadSnapshot {
  /** The offset `.info` records. */
  recordedOffset: number;
  /**
   * Bytes durably stored: the sizes S3 reports (ListParts) for the parts `.info` commits, plus the
   * size of the `.pending` object it names. Every committed part must be there with its ETag.
   */
  durable: number;
  /** Parts S3 holds for the recorded multipart upload that `.info` does not commit (a request cut off). */
  uncommittedPartBytes: number;
  /** Multipart uploads of the key other than the recorded one, and `.pending` objects other than the recorded one. */
  strays: number;
}

interface StoredState {
  offset: number;
  s3: { uploadId: string | null; parts: { partNumber: number; etag: string; size: number }[]; pending: { key: string; size: number } | null };
}

const bare = (etag: string | undefined) => (etag ?? '').replaceAll('"', '');

/** Reads `<key>.info` and checks it against the parts and the pending object S3 holds. */
export async function inspectS3Upload(client: S3Client, bucket: string, key: string): Promise<S3UploadSnapshot> {
  const info = await client.send(new GetObjectCommand({ Bucket: bucket, Key: `${key}.info` }));
  const state = JSON.parse(await info.Body!.transformToString('utf8')) as StoredState;
  const held = new Map<number, { etag: string; size: number }>();
  if (state.s3.uploadId !== null) {
    let marker: string | undefined;
    do {
      const page = await client.send(
        new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: state.s3.uploadId, PartNumberMarker: marker }),
      );
      for (const part of page.Parts ?? []) held.set(part.PartNumber!, { etag: bare(part.ETag), size: part.Size ?? 0 });
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
  }
  let durable = 0;
  for (const part of state.s3.parts) {
    const onS3 = held.get(part.partNumber);
    if (onS3 === undefined || onS3.etag !== bare(part.etag)) {
      throw new Error(`committed part ${part.partNumber} of ${key} is not what S3 holds (${JSON.stringify(onS3)})`);
    }
    durable += onS3.size;
    held.delete(part.partNumber);
  }
  if (state.s3.pending !== null) {
    const pending = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: state.s3.pending.key }));
    durable += pending.ContentLength ?? 0;
  }
  const uncommittedPartBytes = [...held.values()].reduce((sum, part) => sum + part.size, 0);
  const { objects, multipartUploads } = await s3ObjectsOf(client, bucket, key);
  const pendings = objects.filter((name) => name.startsWith(`${key}.pending.`) && name !== state.s3.pending?.key).length;
  const strays = multipartUploads - (state.s3.uploadId === null ? 0 : 1) + pendings;
  return { recordedOffset: state.offset, durable, uncommittedPartBytes, strays };
}

/** Every object under `key` (the upload's own and its `.info`, `.pending.*`) and its multipart uploads in progress. */
export async function s3ObjectsOf(client: S3Client, bucket: string, key: string): Promise<{ objects: string[]; multipartUploads: number }> {
  const [objects, uploads] = await Promise.all([keysUnder(client, bucket, key), multipartUploadsUnder(client, bucket, key)]);
  return { objects, multipartUploads: uploads.filter((upload) => upload === key).length };
}

/**
 * Bytes of the upload that reached S3, recorded or not: every part of every multipart upload of
 * the key (a request cut off may have begun one that `.info` never named), plus `.pending` objects.
 */
export async function bytesReachedS3(client: S3Client, bucket: string, key: string): Promise<number> {
  let total = 0;
  const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: key }));
  for (const upload of uploads.Uploads ?? []) {
    if (upload.Key !== key) continue;
    const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: upload.UploadId }));
    total += (parts.Parts ?? []).reduce((sum, part) => sum + (part.Size ?? 0), 0);
  }
  for (const name of (await s3ObjectsOf(client, bucket, key)).objects) {
    if (name.startsWith(`${key}.pending.`)) total += (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: name }))).ContentLength ?? 0;
  }
  return total;
}
