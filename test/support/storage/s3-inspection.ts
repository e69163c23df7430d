import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';

/** Every object under `prefix`, with its size, sorted by key. */
export async function objectsUnder(client: S3Client, bucket: string, prefix: string): Promise<{ key: string; size: number }[]> {
  const objects: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    objects.push(...(page.Contents ?? []).map((object) => ({ key: object.Key!, size: object.Size ?? 0 })));
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return objects.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

/** Every key under `prefix`, sorted. */
export async function keysUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await objectsUnder(client, bucket, prefix)).map((object) => object.key);
}

/** The multipart uploads in progress under `prefix`. */
export async function multipartUploadsIn(client: S3Client, bucket: string, prefix: string): Promise<{ key: string; uploadId: string }[]> {
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Uploads ?? []).map((upload) => ({ key: upload.Key!, uploadId: upload.UploadId! }));
}

/** Keys of the multipart uploads in progress under `prefix`. */
export async function multipartUploadsUnder(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  return (await multipartUploadsIn(client, bucket, prefix)).map((upload) => upload.key);
}

/** The parts S3 holds for one multipart upload (ETags as S3 quotes them). */
export async function partsOf(client: S3Client, bucket: string, key: string, uploadId: string): Promise<{ partNumber: number; etag: string; size: number }[]> {
  const parts: { partNumber: number; etag: string; size: number }[] = [];
  let marker: string | undefined;
  do {
    const page = await client.send(new ListPartsCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }));
    parts.push(...(page.Parts ?? []).map((part) => ({ partNumber: part.PartNumber!, etag: part.ETag ?? '', size: part.Size ?? 0 })));
    marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
  } while (marker);
  return parts;
}

/** The ETag of an object; a multipart object's ends with `-<number of parts>`. */
export async function etagOf(client: S3Client, bucket: string, key: string): Promise<string> {
  return (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }))).ETag ?? '';
}

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
  /**
   * Of those, the bytes of the parts that follow the committed ones without a gap (numbers n+1,
   * n+2, ...): what a crash recovery can add to the upload.
   */
  followingPartBytes: number;
  /** Bytes in the committed parts (without the `.pending` object). */
  committedPartBytes: number;
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
    for (const part of await partsOf(client, bucket, key, state.s3.uploadId)) held.set(part.partNumber, { etag: bare(part.etag), size: part.size });
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
  const committedPartBytes = state.s3.parts.reduce((sum, part) => sum + part.size, 0);
  let followingPartBytes = 0;
  for (let next = state.s3.parts.length + 1; held.has(next); next++) followingPartBytes += held.get(next)!.size;
  const { objects, multipartUploads } = await s3ObjectsOf(client, bucket, key);
  const pendings = objects.filter((name) => name.startsWith(`${key}.pending.`) && name !== state.s3.pending?.key).length;
  const strays = multipartUploads - (state.s3.uploadId === null ? 0 : 1) + pendings;
  return { recordedOffset: state.offset, durable, uncommittedPartBytes, followingPartBytes, committedPartBytes, strays };
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
  for (const upload of await multipartUploadsIn(client, bucket, key)) {
    if (upload.key !== key) continue;
    total += (await partsOf(client, bucket, key, upload.uploadId)).reduce((sum, part) => sum + part.size, 0);
  }
  for (const name of (await s3ObjectsOf(client, bucket, key)).objects) {
    if (name.startsWith(`${key}.pending.`)) total += (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: name }))).ContentLength ?? 0;
  }
  return total;
}
