import { closeFd, openFd, readFd } from './fd.js';

/** An `.info` fits in one read of this size, nearly always (a long `Upload-Metadata` may not). */
const INFO_READ_SIZE = 16 * 1024;

/** `readFile` in three system calls (open, read, close) rather than four: no `fstat` for the size. */
export async function readSmallFile(path: string): Promise<string> {
  const fd = await openFd(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(INFO_READ_SIZE);
    let length = 0;
    for (;;) {
      const bytesRead = await readFd(fd, buffer, length, buffer.length - length, length);
      if (bytesRead === 0) break;
      length += bytesRead;
      if (length < buffer.length) {
        // A short read of a regular file is its end, unless the file grew meanwhile (it cannot:
        // `.info` is replaced whole by rename, never written in place).
        break;
      }
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger, 0, 0, length);
      buffer = larger;
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await closeFd(fd);
  }
}
