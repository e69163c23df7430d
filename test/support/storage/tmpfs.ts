import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A size-limited file system of its own, to fill up: a tmpfs mounted on a fresh folder. */
export interface SmallFileSystem {
  path: string;
  unmount(): Promise<void>;
}

/**
 * Mounts a tmpfs of `sizeBytes` (rounded up to whole pages by the kernel). Needs root (or
 * CAP_SYS_ADMIN); throws saying so when the mount is refused: the tests that need it do not skip.
 */
export async function mountTmpfs(sizeBytes: number): Promise<SmallFileSystem> {
  const path = await mkdtemp(join(tmpdir(), 'nestjs-tus-small-fs-'));
  try {
    await run('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    const reason = String((error as { stderr?: string }).stderr ?? (error as Error).message).trim();
    throw new Error(
      `Cannot mount a ${sizeBytes}-byte tmpfs at ${path} (${reason}). The disk-full tests need a small file system of their own: run them as root, or in a container with CAP_SYS_ADMIN.`,
    );
  }
  return {
    path,
    unmount: async () => {
      try {
        await run('umount', [path]);
      } catch {
        // Still busy (a descriptor not yet closed): detach now, the kernel frees it when released.
        await run('umount', ['-l', path]);
      }
      await rm(path, { recursive: true, force: true });
    },
  };
}
