import { closeSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { onEventLoopWhileFast } from './event-loop-fs.js';

/** An `.info` fits in one read of this size, nearly always (a long `Upload-Metadata` may not). */
const INFO_READ_SIZE = 16 * 1024;

/**
 * A small file's text: read on the event loop ({@link readSmallFileSync}) while such calls are
 * fast, through the thread pool for a while after a few slow ones ({@link onEventLoopWhileFast}).
 * On a local disk the file is in the page cache and the event loop saves two thread hand-overs per
 * read; on a network file system a read is a round trip that would stall every other request.
 */
export function readSmallFile(path: string): Promise<string> {
  return onEventLoopWhileFast(
    () => readSmallFileSync(path),
    () => readFile(path, 'utf8'),
  );
}

/**
 * A small file's text, read on the event loop: open, read, close, without `fstat` for the size.
 * Read on every HEAD and every write's start, a file of a few hundred bytes that was just written is
 * in the page cache, and its three system calls take microseconds; through the thread pool, each of
 * the three would cost a hand-over to a pool thread and back (in a CPU profile of the HEAD scenario,
 * a third of the main thread's time went to those hand-overs, measured for issue 16). The same
 * reasoning as the `existsSync` of abandoned-file-lock.ts. On a network file system it would block
 * the event loop for a round trip per call: {@link readSmallFile} then leaves it for a while.
 */
export function readSmallFileSync(path: string): string {
  const fd = openSync(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(INFO_READ_SIZE);
    let length = 0;
    for (;;) {
      const bytesRead = readSync(fd, buffer, length, buffer.length - length, length);
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
    closeSync(fd);
  }
}
