import type { UploadInfo } from '../../protocol/upload-info.js';
import { closeFd } from './fd.js';

/** A data file created under a lock this process holds, whose `.info` is not written yet. */
export interface FreshDataFile {
  /** The data file's descriptor, open for writing, on a file known to be empty. */
  readonly fd: number;
  /** The state `create()` returned: recorded in `.info` by the first write, or at release. */
  readonly upload: UploadInfo;
}

/**
 * Uploads created under a lock this process holds (creation-with-upload, an empty upload), open
 * for their first chunk and not yet recorded: the first write stores the chunk into the descriptor
 * the creation opened and writes `.info` once, with the offset the chunk reached (rather than once
 * at creation and again after the chunk). Until then the upload exists for this process only, which
 * is enough: no one else can know its id before the creation is answered. A crash meanwhile leaves
 * a data file without `.info` under an abandoned lock, which whoever takes the lock removes (see
 * repairCrashedWrite). An entry is taken by the first write, or recorded and closed when the lock
 * is released, or dropped when the upload is removed.
 */
export class FreshDataFiles {
  private readonly files = new Map<string, FreshDataFile>();

  has(id: string): boolean {
    return this.files.has(id);
  }

  keep(id: string, file: FreshDataFile): void {
    this.files.set(id, file);
  }

  /** The state of a fresh upload, for `get()` in this process; undefined when there is none. */
  state(id: string): UploadInfo | undefined {
    return this.files.get(id)?.upload;
  }

  /** The entry, now the caller's (to record and to close); undefined when there is none. */
  take(id: string): FreshDataFile | undefined {
    const file = this.files.get(id);
    this.files.delete(id);
    return file;
  }

  /** Closes the descriptor without recording anything (the upload is being removed). */
  async drop(id: string): Promise<void> {
    const file = this.take(id);
    if (file !== undefined) await closeFd(file.fd).catch(() => undefined);
  }
}
