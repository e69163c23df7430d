import { InsufficientStorageError } from '../../errors/tus.errors.js';

/** A full disk or an exhausted quota is the 507 of the catalogue; any other error stays what it is. */
export function storageError(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== 'ENOSPC' && code !== 'EDQUOT') return error;
  return Object.assign(new InsufficientStorageError(), { cause: error });
}
