import { close, open, read, writeFile } from 'node:fs';

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

/** `writeFile` (open, write, close) without the `FileHandle` that of `fs/promises` creates. */
export function writeWholeFile(path: string, data: string): Promise<void> {
  return new Promise((resolve, reject) => writeFile(path, data, (error) => (error ? reject(error) : resolve())));
}
