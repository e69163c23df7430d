import { UploadLockedError } from '../errors/tus.errors.js';

interface Waiter {
  grant: () => void;
  timer: NodeJS.Timeout;
}

/**
 * A process-local mutex per key (upload id), first come first served. Backends put it in front of
 * their cross-process mechanism so that requests of one process queue in memory instead of
 * polling the shared store.
 */
export class KeyedMutex {
  private readonly queues = new Map<string, Waiter[]>();

  /** Waits up to `timeoutMs` for the key, then throws `UploadLockedError` (423). */
  acquire(key: string, timeoutMs: number): Promise<() => void> {
    const queue = this.queues.get(key);
    if (queue === undefined) {
      this.queues.set(key, []);
      return Promise.resolve(this.releaser(key));
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => {
          clearTimeout(waiter.timer);
          resolve(this.releaser(key));
        },
        timer: setTimeout(() => {
          queue.splice(queue.indexOf(waiter), 1);
          reject(new UploadLockedError());
        }, timeoutMs),
      };
      queue.push(waiter);
    });
  }

  /** True while some holder has the key. */
  isLocked(key: string): boolean {
    return this.queues.has(key);
  }

  private releaser(key: string): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const queue = this.queues.get(key)!;
      const next = queue.shift();
      if (next) next.grant();
      else this.queues.delete(key);
    };
  }
}
