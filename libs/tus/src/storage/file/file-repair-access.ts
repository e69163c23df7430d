import { type CrashRepairAccess, repairCrashedWrite } from './file-crash-recovery.js';
import type { FileInfoRecord } from './file-info-record.js';
import type { FilePaths } from './file-paths.js';
import { storageError } from './file-storage-error.js';

/**
 * The repair of what a dead writer left of one upload ({@link repairCrashedWrite}), wired to the
 * backend's files and `.info` record. A repair that fills the disk is the 507 of the catalogue.
 */
export function crashRepairOf(paths: FilePaths, info: FileInfoRecord): (id: string) => Promise<void> {
  const access: CrashRepairAccess = {
    get: (id) => info.read(id),
    saveInfo: (upload) => info.save(upload),
    dataPath: (id) => paths.data(id),
    unverifiedPath: (id) => paths.unverified(id),
  };
  return (id) =>
    repairCrashedWrite(access, id).catch((error: unknown) => {
      throw storageError(error);
    });
}
