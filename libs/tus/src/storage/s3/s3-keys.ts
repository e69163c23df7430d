import { randomBytes } from 'node:crypto';
import type { UploadInfo, UploadStorageLocation } from '../../protocol/upload-info.js';

/**
 * Tag of the `.pending` objects, so that a bucket lifecycle rule can expire those of abandoned
 * uploads (a rule filters by prefix and tags, not by a key's suffix).
 */
export const PENDING_OBJECT_TAG = 'tus-object=pending';

/**
 * The keys of an upload's objects in the bucket, all under `<prefix><id>`. Processes sharing the
 * bucket find them by these names: they are part of the stored format.
 */
export class S3Keys {
  constructor(
    readonly bucket: string,
    readonly prefix: string,
  ) {}

  /** `<prefix><id>`: the assembled bytes, once complete. */
  data(id: string): string {
    return `${this.prefix}${id}`;
  }

  /** `<prefix><id>.info`: the state (see S3InfoRecord). */
  info(id: string): string {
    return `${this.data(id)}.info`;
  }

  /** `<prefix><id>.lock`: present while a request writes (see acquireS3Lock). */
  lock(id: string): string {
    return `${this.data(id)}.lock`;
  }

  /** A new `<prefix><id>.pending.<random>` for bytes short of a part: a new key per request. */
  newPending(id: string): string {
    return `${this.data(id)}.pending.${randomBytes(6).toString('hex')}`;
  }

  /** Where an upload's bytes are: as its state says, else under this backend's prefix. */
  dataOf(upload: UploadInfo): string {
    return upload.storage.type === 's3' && typeof upload.storage.key === 'string' ? upload.storage.key : this.data(upload.id);
  }

  location(id: string): UploadStorageLocation {
    return { type: 's3', bucket: this.bucket, key: this.data(id) };
  }
}
