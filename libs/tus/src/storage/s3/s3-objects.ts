import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { StorageUnavailableError, TusError } from '../../errors/tus.errors.js';
import type { ObjectRange } from './concat-plan.js';
import type { ListedPart } from './part-adoption.js';
import type { S3Part } from './s3-upload-state.js';

/** A conditional PutObject: `create` refuses an existing key, an ETag refuses any other version. */
export type PutCondition = { ifNoneMatch: '*' } | { ifMatch: string };

/** HTTP status of an error thrown by the SDK, when it carries one. */
export function s3Status(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** A conditional write lost: 412, or AWS's 409 for a conflicting conditional write in flight. */
export function isConditionFailed(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return s3Status(error) === 412 || name === 'PreconditionFailed' || name === 'ConditionalRequestConflict';
}

export function isNotFound(error: unknown): boolean {
  const name = (error as Error | undefined)?.name;
  return s3Status(error) === 404 || name === 'NoSuchKey' || name === 'NotFound' || name === 'NoSuchUpload';
}

/** System error codes of a connection that failed or went silent: S3 may answer a retry. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND']);
/** The SDK's names for a request that got no (whole) answer in time. */
const NETWORK_NAMES = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
/** Answers of an S3 server that is there but cannot serve now. 501 (not implemented) is permanent. */
const UNAVAILABLE_STATUSES = new Set([500, 502, 503, 504]);

/**
 * What an S3 call's failure means to a client. No answer from S3 (refused, reset, timed out, an
 * answer cut short) or an answer that says "not now" (500, 502, 503, 504: InternalError, SlowDown)
 * is the storage being unavailable: 503, which tus clients retry. Everything else is left as it is:
 * answers below 500 to the backend's own rules, and what no retry can mend (bad credentials or
 * configuration, a 501 from a server without conditional writes, a bug) to the 500 it is, so that
 * it is logged rather than retried for ever. Without this, a refused S3 connection was a bare 500,
 * and a reset one (`ECONNRESET`) read as the client's own body interrupted: 400, which tus clients
 * do not retry.
 */
export function storageErrorOf(error: unknown): unknown {
  if (error instanceof TusError) return error;
  const status = s3Status(error);
  const failure = error as (Error & { code?: string }) | undefined;
  if (status !== undefined) {
    return UNAVAILABLE_STATUSES.has(status) ? new StorageUnavailableError(`S3 answered ${status} ${failure?.name ?? ''}`.trim(), { cause: error }) : error;
  }
  // The system error's code (ECONNREFUSED...) or the SDK's name for it, also when the SDK re-wrapped
  // the error into its message ("AWS SDK error wrapper for TimeoutError: socket hang up").
  const words = (failure?.message ?? '').match(/\b[A-Za-z]+\b/g) ?? [];
  const code = [failure?.code, failure?.name, ...words].find(
    (candidate) => candidate !== undefined && (NETWORK_CODES.has(candidate) || NETWORK_NAMES.has(candidate)),
  ) ?? (/socket hang up/.test(failure?.message ?? '') ? 'socket hang up' : undefined);
  return code === undefined ? error : new StorageUnavailableError(`S3 unreachable: ${code}`, { cause: error });
}

const rethrowAsStorageError = (error: unknown): never => {
  throw storageErrorOf(error);
};

/** The S3 calls of the S3 backend, on one bucket. */
export class S3Objects {
  private readonly client: Pick<S3Client, 'send'>;

  constructor(
    client: S3Client,
    readonly bucket: string,
  ) {
    // Every call fails through one rule, storageErrorOf; the promise form is the only one used.
    const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
    this.client = { send: ((command: unknown) => send(command).catch(rethrowAsStorageError)) as S3Client['send'] };
  }

  /** Throws when the bucket is missing or not accessible with the client's credentials. */
  async headBucket(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async getText(key: string): Promise<{ text: string; etag: string | undefined }> {
    const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return { text: await output.Body!.transformToString('utf8').catch(rethrowAsStorageError), etag: output.ETag };
  }

  async getBytes(key: string): Promise<Uint8Array> {
    const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return output.Body!.transformToByteArray().catch(rethrowAsStorageError);
  }

  /** Streams an object, or its inclusive byte range `start`..`end`. */
  async getStream(key: string, start?: number, end?: number): Promise<Readable> {
    const range = start === undefined && end === undefined ? undefined : `bytes=${start ?? 0}-${end ?? ''}`;
    const output = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: range }));
    return output.Body as Readable;
  }

  /** Writes an object, returning its ETag as S3 sent it. */
  async put(
    key: string,
    body: Uint8Array | Readable | string,
    options: { length?: number; contentType?: string; condition?: PutCondition; tagging?: string } = {},
  ): Promise<string | undefined> {
    const condition = options.condition;
    const output = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: options.length,
        ContentType: options.contentType,
        Tagging: options.tagging,
        IfNoneMatch: condition && 'ifNoneMatch' in condition ? condition.ifNoneMatch : undefined,
        IfMatch: condition && 'ifMatch' in condition ? condition.ifMatch : undefined,
      }),
    );
    return output.ETag;
  }

  async exists(key: string): Promise<{ size: number } | null> {
    try {
      const output = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { size: output.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Deletes an object; a missing one is not an error. */
  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }

  /** Deletes, ignoring any failure: for objects that nothing refers to any more. */
  async deleteQuietly(key: string): Promise<void> {
    await this.delete(key).catch(() => undefined);
  }

  async *listKeys(prefix: string): AsyncIterable<string> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }),
      );
      for (const object of page.Contents ?? []) if (object.Key !== undefined) yield object.Key;
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  async createMultipartUpload(key: string): Promise<string> {
    const output = await this.client.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key }));
    return output.UploadId!;
  }

  async uploadPart(
    key: string,
    uploadId: string,
    partNumber: number,
    body: Uint8Array | Readable,
    length: number,
  ): Promise<string> {
    const output = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        Body: body,
        ContentLength: length,
      }),
    );
    return output.ETag!;
  }

  async uploadPartCopy(key: string, uploadId: string, partNumber: number, source: ObjectRange): Promise<string> {
    const output = await this.client.send(
      new UploadPartCopyCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: partNumber,
        CopySource: `${this.bucket}/${source.key.split('/').map(encodeURIComponent).join('/')}`,
        CopySourceRange: `bytes=${source.start}-${source.end - 1}`,
      }),
    );
    return output.CopyPartResult!.ETag!;
  }

  async completeMultipartUpload(key: string, uploadId: string, parts: readonly S3Part[]): Promise<void> {
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map(({ partNumber, etag }) => ({ PartNumber: partNumber, ETag: etag })) },
      }),
    );
  }

  async abortMultipartUpload(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  /** The parts S3 holds for a multipart upload (the last upload of each part number). */
  async *listParts(key: string, uploadId: string): AsyncIterable<ListedPart> {
    let marker: string | undefined;
    do {
      const page = await this.client.send(
        new ListPartsCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumberMarker: marker }),
      );
      for (const part of page.Parts ?? []) yield { partNumber: part.PartNumber!, etag: part.ETag ?? '', size: part.Size ?? 0 };
      marker = page.IsTruncated ? page.NextPartNumberMarker : undefined;
    } while (marker !== undefined);
  }

  /** Ids of the multipart uploads in progress for exactly `key`. */
  async *listMultipartUploads(key: string): AsyncIterable<string> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: key,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === key && upload.UploadId !== undefined) yield upload.UploadId;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker !== undefined);
  }
}
