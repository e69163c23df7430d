import { join } from 'node:path';

/**
 * The names of an upload's files in the backend's folder. Other processes sharing the folder find
 * them by these names, and crash recovery by their suffixes: they are part of the on-disk format.
 */
export class FilePaths {
  /** @param directory absolute path of the upload folder */
  constructor(readonly directory: string) {}

  /** `<id>`: the upload's bytes. */
  data(id: string): string {
    return join(this.directory, id);
  }

  /** `<id>.info`: the upload's state (see FileInfoRecord). */
  info(id: string): string {
    return join(this.directory, `${id}.info`);
  }

  /** `<id>.lock`: present while a request holds the upload (see acquireFileLock). */
  lock(id: string): string {
    return join(this.directory, `${id}.lock`);
  }

  /** `<id>.unverified`: present while a chunk that must be verified whole is written. */
  unverified(id: string): string {
    return join(this.directory, `${id}.unverified`);
  }
}
