import { lstat, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Every entry under a folder: relative path -> type, size and modification time. */
export type TreeSnapshot = Map<string, string>;

/** Walks `root` (symbolic links not followed), leaving out the folders in `skip`. */
export async function snapshotTree(root: string, skip: readonly string[] = []): Promise<TreeSnapshot> {
  const snapshot: TreeSnapshot = new Map();
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (skip.includes(path)) continue;
      const stats = await lstat(path);
      const type = entry.isDirectory() ? 'dir' : entry.isSymbolicLink() ? 'link' : 'file';
      snapshot.set(relative(root, path), `${type} ${entry.isDirectory() ? '' : stats.size} ${stats.mtimeMs}`);
      if (entry.isDirectory()) await walk(path);
    }
  };
  await walk(root);
  return snapshot;
}

/** What differs between two snapshots, one line per entry added, removed or changed. */
export function diffTrees(before: TreeSnapshot, after: TreeSnapshot): string[] {
  const changes: string[] = [];
  for (const [path, state] of before) {
    if (!after.has(path)) changes.push(`removed ${path}`);
    else if (after.get(path) !== state) changes.push(`changed ${path}: ${state} -> ${after.get(path)}`);
  }
  for (const path of after.keys()) if (!before.has(path)) changes.push(`added ${path}`);
  return changes;
}
