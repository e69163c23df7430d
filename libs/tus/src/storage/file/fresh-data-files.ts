import type { FileHandle } from 'node:fs/promises';

/**
 * Data files created under a lock this process holds, open for their first chunk: a creation with
 * an upload's first bytes (creation-with-upload) writes them into the descriptor it created, on a
 * file known to be empty, without opening it again. A descriptor is taken by the first write, or
 * closed when the lock is released or the upload removed.
 */
export class FreshDataFiles {
  private readonly handles = new Map<string, FileHandle>();

  has(id: string): boolean {
    return this.handles.has(id);
  }

  keep(id: string, handle: FileHandle): void {
    this.handles.set(id, handle);
  }

  /** The descriptor, now the caller's to close; undefined when there is none. */
  take(id: string): FileHandle | undefined {
    const handle = this.handles.get(id);
    this.handles.delete(id);
    return handle;
  }

  async close(id: string): Promise<void> {
    await this.take(id)?.close().catch(() => undefined);
  }
}
