import { OffsetMismatchError, PayloadTooLargeError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { keepsBytesAfter } from '../chunk-outcome.js';
import { pipeChunk } from '../chunk-pump.js';
import { PartSink } from '../part-sink.js';
import { ProgressRecorder } from '../progress-recorder.js';
import type { StoredPart } from '../stored-part.js';
import type { ChunkSource, UploadChanges } from '../tus-storage-backend.interface.js';
import type { AzureBlobs } from './azure-blobs.js';
import type { AzureInfoStore } from './azure-info-store.js';
import { bytesIn, type AzureBlock, type AzureSnapshot, type AzureUploadState } from './azure-upload-state.js';
import { blockId, requestTag } from './block-ids.js';

/** What a {@link writeChunk} needs of its backend. */
export interface BlockWriterContext {
  blobs: AzureBlobs;
  infos: AzureInfoStore;
  maxBlocks: number;
  maxInFlight: number;
}

/** A request's outcome: the state recorded, and the body's failure when what arrived was kept all the same. */
export interface WrittenChunk {
  saved: UploadInfo;
  failure?: unknown;
}

const EMPTY = Buffer.alloc(0);
// PartSink and ProgressRecorder speak of S3 parts: a block is a part whose "ETag" is its block id.
const toBlock = (part: StoredPart): AzureBlock => ({ id: part.etag, size: part.size });

/**
 * Stages one request's bytes as blocks of the upload's data blob, at most `maxInFlight` at once
 * (the sink holds the body back when they are all in flight), the short rest as one last block,
 * and records them in `.info`. While the body streams, every block staged is recorded at once
 * (the unbroken run from the request's first block), so that a crash of the process loses only
 * the blocks in flight and the one being filled; a chunk that must be verified whole
 * (`keepOnInterrupt` false: Upload-Checksum) records nothing before its end. Blocks that no
 * record names stay uncommitted and are discarded when the upload's blocks are committed.
 */
export async function writeChunk(
  context: BlockWriterContext,
  upload: UploadInfo,
  snapshot: AzureSnapshot,
  state: AzureUploadState,
  chunk: ChunkSource,
  changes: UploadChanges,
): Promise<WrittenChunk> {
  const { blobs, infos } = context;
  const changed = { ...upload, ...changes };
  const name = infos.dataName(upload.id);
  const tag = requestTag();
  const stagedAt = () => new Date().toISOString();
  // The version of .info this request builds on: the one read, then each record of its progress.
  let etag = snapshot.etag;
  const recorder = chunk.keepOnInterrupt
    ? new ProgressRecorder(
        state.blocks.length + 1,
        async (parts) => {
          const blocks = [...state.blocks, ...parts.map(toBlock)];
          const offset = bytesIn(blocks);
          // The block that fills the upload is recorded with its completion, at the request's end.
          if (changed.length !== null && offset >= changed.length) return false;
          const saved = await infos.save({ ...changed, offset, completedAt: null }, { ...state, blocks, stagedAt: stagedAt() }, { ifMatch: etag });
          etag = (await infos.snapshotOf(saved)).etag;
          return true;
        },
        // Only another writer winning the upload stops the request; a record Azure fails ends the
        // records, and the request's own end saves what it staged.
        (error) => error instanceof OffsetMismatchError,
      )
    : null;
  const sink = new PartSink({
    partSize: state.blockSize,
    firstPartNumber: state.blocks.length + 1,
    lastPartNumber: context.maxBlocks,
    maxInFlight: context.maxInFlight,
    prefill: EMPTY,
    uploadPart: async (position, body) => {
      const id = blockId(tag, position);
      await blobs.stageBlock(name, id, body);
      return id;
    },
    partStored: recorder === null ? undefined : (part) => recorder.stored(part),
  });
  let failure: unknown;
  try {
    failure = await pipeChunk(chunk, sink);
  } catch (error) {
    failure = error;
  }
  await recorder?.close();
  const stored = await sink.settle();
  const recorded = recorder !== null && recorder.recordedParts.length > 0;
  // A block not staged, or a record lost to another writer (409): what was recorded stays.
  if (stored.error !== undefined) throw failure ?? stored.error;
  let keep = failure === undefined || keepsBytesAfter(failure, chunk);
  if (failure === undefined) {
    try {
      await chunk.verify(upload.offset + sink.received);
    } catch (error) {
      // A throw from verify() (checksum mismatch, vetoed finish) always discards the chunk.
      failure = error;
      keep = false;
    }
  }
  if (!keep || (failure !== undefined && sink.received === 0)) {
    // "The upload exactly as it was": the state the request began from, written back over its records.
    if (recorded) await infos.save(upload, snapshot.azure, { ifMatch: etag }).catch(() => undefined);
    throw failure;
  }
  const blocks = [...state.blocks, ...stored.parts.map(toBlock)];
  if (stored.tail.length > 0) {
    const position = blocks.length + 1;
    if (position > context.maxBlocks) throw new PayloadTooLargeError(`The upload would need more than ${context.maxBlocks} blocks`);
    const id = blockId(tag, position);
    await blobs.stageBlock(name, id, stored.tail);
    blocks.push({ id, size: stored.tail.length });
  }
  const offset = upload.offset + sink.received;
  const touched = sink.received > 0 ? stagedAt() : state.stagedAt;
  const saved = await infos.save({ ...changed, offset, completedAt: null }, { ...state, blocks, stagedAt: touched }, { ifMatch: etag });
  return { saved, failure };
}
