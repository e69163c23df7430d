import { close, open, read, rename, renameSync, writeFile, writeFileSync } from 'node:fs';
import { onEventLoopWhileFast, SlowCallWatch } from './event-loop-fs.js';

/**
 * Plain descriptors through Node's callback API, for the calls on every request's path: a
 * `FileHandle` of `fs/promises` costs an object with a finaliser per file and more work per call
 * (measured for issue 16: about a quarter more CPU per open and close).
 */
export function openFd(path: string, flags: string): Promise<number> {
  return new Promise((resolve, reject) => open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => close(fd, (error) => (error ? reject(error) : resolve())));
}

export function readFd(fd: number, buffer: Buffer, offset: number, length: number, position: number): Promise<number> {
  return new Promise((resolve, reject) =>
    read(fd, buffer, offset, length, position, (error, bytesRead) => (error ? reject(error) : resolve(bytesRead))),
  );
}

/** Whether {@link writeAndRename} runs on the event loop: a watch of its own (see onEventLoopWhileFast). */
export const fileCreations = new SlowCallWatch();

/**
 * Writes `data` into a new file `temporary` and renames it to `target` (replacing it whole), on the
 * event loop while such calls are fast ({@link onEventLoopWhileFast}). On failure `temporary` may be
 * left: the caller removes it.
 */
export function writeAndRename(temporary: string, target: string, data: string): Promise<void> {
  return onEventLoopWhileFast(
    () => writeAndRenameSync(temporary, target, data),
    () => writeAndRenamePooled(temporary, target, data),
    fileCreations,
  );
}

/** {@link writeAndRename} on the event loop. */
export function writeAndRenameSync(temporary: string, target: string, data: string): void {
  writeFileSync(temporary, data);
  renameSync(temporary, target);
}

/** {@link writeAndRename} through the thread pool. */
export async function writeAndRenamePooled(temporary: string, target: string, data: string): Promise<void> {
  await new Promise<void>((resolve, reject) => writeFile(temporary, data, (error) => (error ? reject(error) : resolve())));
  await new Promise<void>((resolve, reject) => rename(temporary, target, (error) => (error ? reject(error) : resolve())));
}
