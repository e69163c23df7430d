import { closeSync, openSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

/** An `.info` fits in one read of this size, nearly always (a long `Upload-Metadata` may not). */
const INFO_READ_SIZE = 16 * 1024;

/** A read on the event loop slower than this (a network file system, a cold disk) blocks it too long. */
const SLOW_READ_NS = 2_000_000n;
/** How long reads go through the thread pool after a slow one, before the event loop is tried again. */
const SLOW_SPELL_MS = 10_000;
/** Until when reads go through the thread pool (`Date.now()`), after a slow one. */
let poolUntil = 0;

/**
 * A small file's text: read on the event loop ({@link readSmallFileSync}) while such reads are fast,
 * through the thread pool for a while after one took more than 2 ms. On a local disk the file is in
 * the page cache and the event loop saves two thread hand-overs per read; on a network file system
 * a read is a round trip that would stall every other request meanwhile.
 */
export async function readSmallFile(path: string): Promise<string> {
  if (poolUntil > Date.now()) return readFile(path, 'utf8');
  const started = process.hrtime.bigint();
  try {
    return readSmallFileSync(path);
  } finally {
    if (process.hrtime.bigint() - started > SLOW_READ_NS) poolUntil = Date.now() + SLOW_SPELL_MS;
  }
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
