import { UploadNotFoundError } from '../errors/tus.errors.js';
import { isValidUploadId } from '../protocol/upload-id.js';
import type { UploadInfo } from '../protocol/upload-info.js';

/**
 * The uploads behind the `.info` names among `names` (file names in a folder, keys under a
 * prefix), read with `get`. Other names, and ids that are not valid upload ids, are skipped; an
 * upload removed between the listing and its read is left out.
 *
 * @param prefix what every name starts with before the upload id
 */
export async function* listUploads(
  names: Iterable<string> | AsyncIterable<string>,
  prefix: string,
  get: (id: string) => Promise<UploadInfo>,
): AsyncIterable<UploadInfo> {
  for await (const name of names) {
    if (!name.endsWith('.info')) continue;
    const id = name.slice(prefix.length, -'.info'.length);
    if (!isValidUploadId(id)) continue;
    try {
      yield await get(id);
    } catch (error) {
      if (!(error instanceof UploadNotFoundError)) throw error;
    }
  }
}
