import type { UploadInfo } from '../../protocol/upload-info.js';
import { decodeUploadInfo, encodeUploadInfo, type StoredUploadInfo } from '../upload-info.codec.js';

/** A block staged for the upload's data blob, recorded in `.info`. */
export interface AzureBlock {
  /** Base64 block id: the staging request's tag and the block's position (see block-ids.ts). */
  id: string;
  size: number;
}

/** What the Azure backend keeps in `.info` beside the public {@link UploadInfo} fields. */
export interface AzureUploadState {
  /** Size of the whole blocks; grows when a deferred length is declared (see blockSizeFor). */
  blockSize: number;
  /** The staged blocks that hold the upload's bytes, in order; empty once committed (completed). */
  blocks: AzureBlock[];
  /**
   * When a block of this upload was last staged (ISO time), or null: Azure discards the
   * uncommitted blocks of a blob that saw no Put Block or Put Block List for a week.
   */
  stagedAt: string | null;
}

/** An upload's state as read from `.info`, with the ETag that makes the next write conditional. */
export interface AzureSnapshot {
  etag: string;
  azure: AzureUploadState;
}

/** `write`: a token new for every write, so a writer tells its own applied write from another's. */
type StoredAzureUpload = StoredUploadInfo & { azure: AzureUploadState; write?: string };

export function encodeAzureUpload(upload: UploadInfo, azure: AzureUploadState, write?: string): string {
  const stored: StoredAzureUpload = { ...encodeUploadInfo(upload), azure, write };
  return JSON.stringify(stored);
}

/** Parses `.info`; throws when its blocks do not add up to its offset (a state that contradicts itself). */
export function decodeAzureUpload(text: string, name: string): { upload: UploadInfo; azure: AzureUploadState } {
  const { azure, write: _write, ...stored } = JSON.parse(text) as StoredAzureUpload;
  const upload = decodeUploadInfo(stored);
  if (upload.completedAt === null && upload.concat?.type !== 'final') {
    const held = azure.blocks.reduce((sum, block) => sum + block.size, 0);
    if (held !== upload.offset) throw new Error(`Corrupt Azure upload state in ${name}: blocks hold ${held} bytes, offset is ${upload.offset}`);
  }
  return { upload, azure };
}

/** Bytes in `blocks`. */
export const bytesIn = (blocks: readonly AzureBlock[]): number => blocks.reduce((sum, block) => sum + block.size, 0);
