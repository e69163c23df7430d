import { unlink } from 'node:fs/promises';
import { UploadNotFoundError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { uniqueSuffix } from '../unique-suffix.js';
import { decodeUploadInfo, encodeUploadInfo, type StoredUploadInfo } from '../upload-info.codec.js';
import type { FilePaths } from './file-paths.js';
import { storageError } from './file-storage-error.js';
import { writeAndRename } from './fd.js';
import { readSmallFile } from './read-small-file.js';

/**
 * An upload's state in `<id>.info`, as JSON, replaced whole by rename and never written in place:
 * a reader (of this or another process sharing the folder) sees the old state or the new one,
 * and a write cut short (a full disk, a crash) leaves the old one as it was.
 */
export class FileInfoRecord {
  constructor(private readonly paths: FilePaths) {}

  /** The state; `UploadNotFoundError` when the upload has no `.info`. */
  async read(id: string): Promise<UploadInfo> {
    let text: string;
    try {
      text = await readSmallFile(this.paths.info(id));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new UploadNotFoundError();
      throw error;
    }
    return decodeUploadInfo(JSON.parse(text) as StoredUploadInfo);
  }

  async save(upload: UploadInfo): Promise<void> {
    const target = this.paths.info(upload.id);
    // Unique among processes sharing the folder (a random prefix per process) and within this one.
    const temporary = `${target}.${uniqueSuffix()}.tmp`;
    try {
      await writeAndRename(temporary, target, JSON.stringify(encodeUploadInfo(upload)));
    } catch (error) {
      // Half written (a full disk): .info itself is untouched, and the remnant must not take space.
      await unlink(temporary).catch(() => undefined);
      throw storageError(error);
    }
  }
}
