import { linkSync, unlinkSync } from 'node:fs';
import { link, readdir, readFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isDeadHere, parseHolder, PROCESS_HOST } from '../process-identity.js';
import { PROCESS_TOKEN } from '../unique-suffix.js';
import { onEventLoopWhileFast } from './event-loop-fs.js';

/** Who holds a lock: the JSON of an owner file, and of a lock file of its own. */
export interface LockOwner {
  pid: number;
  host: string;
  token: string;
}

/** Owner files start with this; the rest is the process's token. */
export const OWNER_PREFIX = '.tus-lock-owner-';

/**
 * One file per process and folder that says who holds the locks linked to it (the same JSON a lock
 * file of its own holds). Locks are hard links to it: taking one is a `link()` and releasing it an
 * `unlink()`, where a lock file of its own costs a file creation, a write and a close (and file
 * systems pay for creating and deleting inodes at a high rate). The holder's heartbeat touches this
 * one file while it holds any lock, which keeps all of them fresh: every link shares its mtime.
 */
export class LockOwnerFile {
  readonly path: string;
  private readonly content: string;
  private created: Promise<void> | undefined;
  /** False once `link()` failed for want of hard links: locks are then files of their own. */
  linkable = true;
  private holds = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private touchedAt = 0;

  constructor(
    directory: string,
    private readonly staleMs: number,
  ) {
    this.path = join(directory, `${OWNER_PREFIX}${PROCESS_TOKEN}`);
    this.content = JSON.stringify({ pid: process.pid, host: PROCESS_HOST, token: PROCESS_TOKEN } satisfies LockOwner);
  }

  /** Writes the file (once; again after it was removed). */
  async create(): Promise<void> {
    this.created ??= this.write().catch((error: unknown) => {
      this.created = undefined;
      throw error;
    });
    return this.created;
  }

  /** Links `path` to this file: true when the lock is taken, false when someone holds it. */
  async link(path: string): Promise<boolean> {
    await this.create();
    // Fresh before it is linked: a judge reads the lock's mtime, which is this file's.
    if (this.holds === 0 && Date.now() - this.touchedAt > this.staleMs / 3) await this.touch();
    try {
      await this.linkTo(path);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code === 'ENOENT') {
        // The owner file was removed under us (a wiped folder): write it again and retry once.
        this.created = undefined;
        await this.create();
        try {
          await this.linkTo(path);
        } catch (again) {
          if ((again as NodeJS.ErrnoException).code === 'EEXIST') return false;
          throw again;
        }
      } else if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK' || code === 'EXDEV') {
        this.linkable = false;
        throw new LinkUnsupportedError();
      } else {
        throw error;
      }
    }
    if (++this.holds === 1) {
      this.heartbeat = setInterval(() => void this.touch(), Math.max(this.staleMs / 3, 50));
      this.heartbeat.unref();
    }
    return true;
  }

  /** Releases a lock taken with {@link link}. */
  async unlink(path: string): Promise<void> {
    if (--this.holds === 0) clearInterval(this.heartbeat);
    await onEventLoopWhileFast(
      () => unlinkSync(path),
      () => unlink(path),
    ).catch(() => undefined);
  }

  /**
   * The lock's `link()`, and its `unlink()` above: on the event loop while such calls are fast (a
   * metadata change of microseconds on a local disk, against two thread hand-overs per call).
   */
  private linkTo(path: string): Promise<void> {
    return onEventLoopWhileFast(
      () => linkSync(this.path, path),
      () => link(this.path, path),
    );
  }

  private async touch(): Promise<void> {
    const now = new Date();
    this.touchedAt = now.getTime();
    await utimes(this.path, now, now).catch(() => undefined);
  }

  private async write(): Promise<void> {
    await writeFile(this.path, this.content);
    this.touchedAt = Date.now();
    ownerFiles.add(this.path);
    registerExitCleanup();
  }

  /** Removes the owner files of processes of this host that died without removing theirs. */
  async removeAbandoned(): Promise<void> {
    const directory = dirname(this.path);
    for (const name of await readdir(directory)) {
      if (!name.startsWith(OWNER_PREFIX) || name === basename(this.path)) continue;
      const path = join(directory, name);
      const owner = parseHolder<LockOwner>(await readFile(path, 'utf8').catch(() => ''));
      if (isDeadHere(owner)) await unlink(path).catch(() => undefined);
    }
  }
}

/** Thrown by {@link LockOwnerFile.link} where the file system has no hard links: the caller falls back to a lock file of its own. */
export class LinkUnsupportedError extends Error {}

/** Owner files of this process, removed when it exits (a crashed one's go at the next start on its host). */
const ownerFiles = new Set<string>();
let exitCleanupRegistered = false;

function registerExitCleanup(): void {
  if (exitCleanupRegistered) return;
  exitCleanupRegistered = true;
  process.once('exit', () => {
    for (const path of ownerFiles) {
      try {
        unlinkSync(path);
      } catch {
        // Already gone with its folder.
      }
    }
  });
}
