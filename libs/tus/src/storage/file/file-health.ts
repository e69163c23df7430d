import { open, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { uniqueSuffix } from '../unique-suffix.js';

/**
 * The file backend's health: the folder takes a new file (a probe, written and removed). A missing
 * folder, a read-only mount, a full disk or lost permissions all fail it, with the system's reason.
 */
export async function checkFolderWritable(directory: string): Promise<void> {
  const probe = join(directory, `.tus-health-${uniqueSuffix()}`);
  const handle = await open(probe, 'wx');
  try {
    await handle.write('ok');
  } finally {
    await handle.close();
    await unlink(probe).catch(() => undefined);
  }
}
