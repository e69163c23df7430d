import { randomBytes } from 'node:crypto';
import { InvalidRequestError, OffsetMismatchError, StorageUnavailableError, UploadNotFoundError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import type { S3Keys } from './s3-keys.js';
import { isConditionFailed, isNotFound, type PutCondition, type S3Objects } from './s3-objects.js';
import { bareEtag, decodeS3Upload, encodeS3Upload, type S3Snapshot, type S3UploadState } from './s3-upload-state.js';

/**
 * An upload's state in `<prefix><id>.info`, written only conditionally: a creation with
 * `If-None-Match: *` (an id that exists is refused), every later write with `If-Match` on the
 * version its writer read. Should two requests race, exactly one write is recorded; the other
 * answers 409. Remembers the version behind each state it hands out, so that a write needs no
 * second read.
 */
export class S3InfoRecord {
  /** The `.info` version behind each state this record handed out. */
  private readonly snapshots = new WeakMap<UploadInfo, S3Snapshot>();

  constructor(
    private readonly objects: S3Objects,
    private readonly keys: S3Keys,
  ) {}

  /** The state as S3 holds it now; `UploadNotFoundError` when there is none. */
  async read(id: string): Promise<UploadInfo> {
    const current = await this.currentInfo(id);
    if (current === null) throw new UploadNotFoundError();
    const { upload, s3 } = decodeS3Upload(current.text, this.keys.info(id));
    this.snapshots.set(upload, { etag: bareEtag(current.etag), s3 });
    return upload;
  }

  /** The version behind a state this record handed out (read or saved), if it did. */
  known(upload: UploadInfo): S3Snapshot | undefined {
    return this.snapshots.get(upload);
  }

  /** The `.info` version behind `upload`: remembered from read(), or read again (and checked). */
  async snapshotOf(upload: UploadInfo): Promise<S3Snapshot> {
    const known = this.snapshots.get(upload);
    if (known !== undefined) return known;
    const current = await this.read(upload.id);
    if (current.offset !== upload.offset || (current.completedAt === null) !== (upload.completedAt === null)) {
      throw new OffsetMismatchError(`The upload's offset is ${current.offset}, not ${upload.offset}`);
    }
    return this.snapshots.get(current)!;
  }

  /** Writes `.info` conditionally; a lost condition means another request changed the upload. */
  async save(upload: UploadInfo, s3: S3UploadState, condition: PutCondition): Promise<UploadInfo> {
    let etag: string | undefined;
    const text = encodeS3Upload(upload, s3, randomBytes(9).toString('base64url'));
    try {
      etag = await this.objects.put(this.keys.info(upload.id), text, { contentType: 'application/json', condition });
    } catch (error) {
      // The SDK retries a write whose answer was lost; if the first attempt was applied, the retry's
      // condition fails against our own write (seen with connections to S3 cut mid-answer): a creation
      // answered 400 "already exists", which tus clients do not retry. `.info` holding exactly this
      // text, its write token included, is that write.
      if (isConditionFailed(error)) {
        const current = await this.currentInfo(upload.id);
        if (current?.text === text) return this.remember(upload, s3, current.etag, 'ifNoneMatch' in condition);
        if (!('ifNoneMatch' in condition)) throw new OffsetMismatchError('The upload was changed by another request; read its offset again');
        // No .info to read back: a conflicting write still in flight (AWS answers 409 then), maybe our own.
        if (current === null) throw new StorageUnavailableError('a write of this upload is still in flight', { cause: error });
        throw new InvalidRequestError(`Upload ${upload.id} already exists`);
      }
      if (isNotFound(error)) throw new UploadNotFoundError();
      throw error;
    }
    return this.remember(upload, s3, etag, 'ifNoneMatch' in condition);
  }

  /** `.info` as S3 holds it now, or null when there is none; S3 out of reach throws (503). */
  private async currentInfo(id: string): Promise<{ text: string; etag: string | undefined } | null> {
    try {
      return await this.objects.getText(this.keys.info(id));
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  private remember(upload: UploadInfo, s3: S3UploadState, etag: string | undefined, created: boolean): UploadInfo {
    const saved = { ...upload };
    this.snapshots.set(saved, created ? { etag: bareEtag(etag), s3, created } : { etag: bareEtag(etag), s3 });
    return saved;
  }
}
