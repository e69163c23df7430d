import { MAX_AZURE_BLOCK_SIZE } from './azure-storage.options.js';

const MiB = 1024 * 1024;

/**
 * The size of an upload's remaining blocks: `preferred`, grown to a whole number of MiB when the
 * remaining bytes would otherwise need more blocks than `blocksLeft` (one is kept back for the
 * short block each request ends with). For a length not known yet, `preferred`. Null when even
 * blocks of Azure's largest size cannot hold the bytes.
 */
export function blockSizeFor(remainingBytes: number | null, blocksLeft: number, preferred: number): number | null {
  if (remainingBytes === null || remainingBytes === 0) return preferred;
  if (blocksLeft <= 1) return null;
  const needed = Math.ceil(Math.ceil(remainingBytes / (blocksLeft - 1)) / MiB) * MiB;
  const size = Math.max(preferred, needed);
  return size <= MAX_AZURE_BLOCK_SIZE ? size : null;
}
