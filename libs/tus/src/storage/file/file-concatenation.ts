import { createReadStream, createWriteStream } from 'node:fs';
import { unlink } from 'node:fs/promises';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import type { NewUpload, UploadInfo } from '../../protocol/upload-info.js';
import type { FileInfoRecord } from './file-info-record.js';
import type { FilePaths } from './file-paths.js';
import { storageError } from './file-storage-error.js';

/**
 * Builds a final upload's data file from its partial uploads' files, in order, then records it
 * complete. A final created earlier (concatenation-unfinished) arrives as its `UploadInfo`, a new
 * one as a `NewUpload`.
 */
export async function concatenateFiles(
  paths: FilePaths,
  info: FileInfoRecord,
  upload: NewUpload | UploadInfo,
  parts: UploadInfo[],
): Promise<UploadInfo> {
  const path = paths.data(upload.id);
  // A final created earlier (concatenation-unfinished) has its (empty) data file already.
  const sink = createWriteStream(path, { flags: 'storage' in upload ? 'w' : 'wx', highWaterMark: 1 << 20 });
  try {
    for (const part of parts) await pipeline(createReadStream(paths.data(part.id)), sink, { end: false });
    sink.end();
    await once(sink, 'close');
  } catch (error) {
    sink.destroy();
    await unlink(path).catch(() => undefined);
    throw storageError(error);
  }
  const length = parts.reduce((sum, part) => sum + part.offset, 0);
  const final: UploadInfo = {
    ...upload,
    length,
    offset: length,
    completedAt: new Date(),
    storage: { type: 'file', path },
  };
  try {
    await info.save(final);
  } catch (error) {
    // A new final without its .info would be bytes no one can reach.
    if (!('storage' in upload)) await unlink(path).catch(() => undefined);
    throw error;
  }
  return final;
}
