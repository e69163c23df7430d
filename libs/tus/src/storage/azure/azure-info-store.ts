import { randomBytes } from 'node:crypto';
import { InvalidRequestError, OffsetMismatchError, StorageUnavailableError, UploadNotFoundError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import type { AzureBlobs, BlobCondition } from './azure-blobs.js';
import { isConditionFailed, isNotFound } from './azure-errors.js';
import { decodeAzureUpload, encodeAzureUpload, type AzureSnapshot, type AzureUploadState } from './azure-upload-state.js';

/**
 * The `.info` blobs: each upload's state, read and written conditionally (`If-None-Match: *` on
 * creation, `If-Match` with the ETag read on every update), so that of two writers racing on one
 * version exactly one is recorded. Remembers the version behind every state it hands out, so that
 * a write needs no second read.
 */
export class AzureInfoStore {
  private readonly snapshots = new WeakMap<UploadInfo, AzureSnapshot>();

  constructor(
    private readonly blobs: AzureBlobs,
    private readonly keyPrefix: string,
  ) {}

  /** The blob holding an upload's bytes, once committed. */
  dataName(id: string): string {
    return `${this.keyPrefix}${id}`;
  }

  infoName(id: string): string {
    return `${this.dataName(id)}.info`;
  }

  /** The upload's state, or null when `.info` is missing. */
  async read(id: string): Promise<UploadInfo | null> {
    const current = await this.blobs.getText(this.infoName(id));
    if (current === null) return null;
    const { upload, azure } = decodeAzureUpload(current.text, this.infoName(id));
    this.snapshots.set(upload, { etag: current.etag, azure });
    return upload;
  }

  async get(id: string): Promise<UploadInfo> {
    const upload = await this.read(id);
    if (upload === null) throw new UploadNotFoundError();
    return upload;
  }

  /** The `.info` version behind `upload`: remembered, or read again and checked against it. */
  async snapshotOf(upload: UploadInfo): Promise<AzureSnapshot> {
    const known = this.snapshots.get(upload);
    if (known !== undefined) return known;
    const current = await this.get(upload.id);
    if (current.offset !== upload.offset || (current.completedAt === null) !== (upload.completedAt === null)) {
      throw new OffsetMismatchError(`The upload's offset is ${current.offset}, not ${upload.offset}`);
    }
    return this.snapshots.get(current)!;
  }

  /** Writes `.info` conditionally; a lost condition means another request changed the upload (409). */
  async save(upload: UploadInfo, azure: AzureUploadState, condition: BlobCondition): Promise<UploadInfo> {
    const name = this.infoName(upload.id);
    const text = encodeAzureUpload(upload, azure, randomBytes(9).toString('base64url'));
    let etag: string;
    try {
      etag = await this.blobs.putText(name, text, { condition });
    } catch (error) {
      if (!isConditionFailed(error)) {
        if (isNotFound(error)) throw new UploadNotFoundError();
        throw error;
      }
      // The SDK retries a write whose answer was lost; if the first attempt was applied, the
      // retry's condition fails against our own write: `.info` holding exactly this text (its
      // write token included) is that write.
      const current = await this.blobs.getText(name);
      if (current?.text === text) return this.remember(upload, azure, current.etag);
      if ('ifMatch' in condition) {
        if (current === null) throw new UploadNotFoundError();
        throw new OffsetMismatchError('The upload was changed by another request; read its offset again');
      }
      if (current === null) throw new StorageUnavailableError('a write of this upload is still in flight', { cause: error });
      throw new InvalidRequestError(`Upload ${upload.id} already exists`);
    }
    return this.remember(upload, azure, etag);
  }

  private remember(upload: UploadInfo, azure: AzureUploadState, etag: string): UploadInfo {
    const saved = { ...upload };
    this.snapshots.set(saved, { etag, azure });
    return saved;
  }
}
