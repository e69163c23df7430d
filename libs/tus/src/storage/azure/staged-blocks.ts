import type { AzureBlobs } from './azure-blobs.js';
import type { AzureBlock, AzureUploadState } from './azure-upload-state.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Azure discards the uncommitted blocks of a blob that saw no Put Block or Put Block List for a
 * week (Azurite keeps them for ever). The blocks of an upload idle for six days or more are checked
 * before they are built upon.
 */
export const CHECK_STAGED_BLOCKS_AFTER_MS = 6 * DAY_MS;

/** Whether the state's blocks are old enough that Azure may have discarded them. */
export function mayHaveLostBlocks(state: AzureUploadState, now: number): boolean {
  return state.blocks.length > 0 && state.stagedAt !== null && now - Date.parse(state.stagedAt) >= CHECK_STAGED_BLOCKS_AFTER_MS;
}

/** The leading run of `blocks` that the service still holds staged for the blob `name`. */
export async function blocksStillStaged(blobs: AzureBlobs, name: string, blocks: readonly AzureBlock[]): Promise<AzureBlock[]> {
  const staged = await blobs.uncommittedBlockIds(name);
  const firstLost = blocks.findIndex((block) => !staged.has(block.id));
  return firstLost === -1 ? [...blocks] : blocks.slice(0, firstLost);
}
