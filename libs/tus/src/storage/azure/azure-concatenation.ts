import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { PayloadTooLargeError, StorageUnavailableError } from '../../errors/tus.errors.js';
import { PartSink } from '../part-sink.js';
import type { AzureBlobs } from './azure-blobs.js';
import { blockId, requestTag } from './block-ids.js';

/** A completed partial: its committed data blob and its size. */
export interface ConcatSource {
  name: string;
  size: number;
}

/** How a concatenation copies; `serverSide` turns false for good once the service refused a copy. */
export interface ConcatOptions {
  blockSize: number;
  maxBlocks: number;
  maxInFlight: number;
  copy: { serverSide: boolean };
}

/** Bytes one Put Block From URL copies: small enough that each copy answers within seconds and any service version takes it. */
export const COPY_RANGE = 100 * 1024 * 1024;

/**
 * Builds the blob `name` from the partials' blobs, in order, and commits it: each partial copied
 * inside the service in ranges (Put Block From URL, `maxInFlight` at once), so that no byte passes
 * through this process. Where the service cannot (no way to sign a source URL: a token credential;
 * or the service refuses the copy) the partials are streamed through and staged as blocks, with the
 * write path's bounded buffers.
 */
export async function assembleConcatenation(blobs: AzureBlobs, name: string, sources: ConcatSource[], options: ConcatOptions): Promise<void> {
  const nonEmpty = sources.filter((source) => source.size > 0);
  if (options.copy.serverSide) {
    const urls = await Promise.all(nonEmpty.map((source) => blobs.readableUrl(source.name)));
    if (urls.every((url) => url !== undefined)) {
      try {
        return await copyServerSide(blobs, name, nonEmpty, urls as string[], options);
      } catch (error) {
        if (error instanceof StorageUnavailableError || error instanceof PayloadTooLargeError) throw error;
        // Not a passing failure: the service (or this account's settings) does not copy from a URL.
        options.copy.serverSide = false;
      }
    }
  }
  await streamThrough(blobs, name, nonEmpty, options);
}

async function copyServerSide(blobs: AzureBlobs, name: string, sources: ConcatSource[], urls: string[], options: ConcatOptions): Promise<void> {
  const tag = requestTag();
  const ranges = sources.flatMap((source, index) =>
    Array.from({ length: Math.ceil(source.size / COPY_RANGE) }, (_, n) => ({
      url: urls[index]!,
      offset: n * COPY_RANGE,
      count: Math.min(COPY_RANGE, source.size - n * COPY_RANGE),
    })),
  );
  if (ranges.length > options.maxBlocks) throw new PayloadTooLargeError(`The concatenation would need more than ${options.maxBlocks} blocks`);
  const ids = ranges.map((_, index) => blockId(tag, index + 1));
  let next = 0;
  const worker = async () => {
    while (next < ranges.length) {
      const index = next++;
      const range = ranges[index]!;
      await blobs.stageBlockFromUrl(name, ids[index]!, range.url, range.offset, range.count);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.maxInFlight, ranges.length) }, worker));
  await blobs.commitBlocks(name, ids);
}

async function streamThrough(blobs: AzureBlobs, name: string, sources: ConcatSource[], options: ConcatOptions): Promise<void> {
  const tag = requestTag();
  const sink = new PartSink({
    partSize: options.blockSize,
    firstPartNumber: 1,
    lastPartNumber: options.maxBlocks,
    maxInFlight: options.maxInFlight,
    prefill: Buffer.alloc(0),
    uploadPart: async (position, body) => {
      const id = blockId(tag, position);
      await blobs.stageBlock(name, id, body);
      return id;
    },
  });
  let failure: unknown;
  try {
    await pipeline(Readable.from(readAll(blobs, sources)), sink);
  } catch (error) {
    failure = error;
  }
  const stored = await sink.settle();
  if (failure !== undefined || stored.error !== undefined) throw failure ?? stored.error;
  const ids = stored.parts.map((part) => part.etag);
  if (stored.tail.length > 0) {
    if (ids.length + 1 > options.maxBlocks) throw new PayloadTooLargeError(`The concatenation would need more than ${options.maxBlocks} blocks`);
    const id = blockId(tag, ids.length + 1);
    await blobs.stageBlock(name, id, stored.tail);
    ids.push(id);
  }
  await blobs.commitBlocks(name, ids);
}

/** The partials' bytes, in order, streamed. */
async function* readAll(blobs: AzureBlobs, sources: ConcatSource[]): AsyncGenerator<Uint8Array> {
  for (const source of sources) yield* await blobs.getStream(source.name, 0, source.size);
}
