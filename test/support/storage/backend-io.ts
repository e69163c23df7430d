import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import type { ChunkSource } from '../../../libs/tus/src/storage/tus-storage-backend.interface.js';
import type { TusStorageBackend } from '../../../libs/tus/src/storage/tus-storage-backend.interface.js';
import type { UploadInfo } from '../../../libs/tus/src/protocol/upload-info.js';

/** What a test may set on a chunk besides its body. */
type ChunkOptions = Partial<Omit<ChunkSource, 'stream'>>;

/** A chunk of a plain PATCH with `stream` as its body: no stages, nothing to verify, bytes kept when cut off. */
export function chunkOfStream(stream: Readable, options: ChunkOptions = {}): ChunkSource {
  return { stream, stages: [], verify: async () => undefined, keepOnInterrupt: true, ...options };
}

/** A chunk from buffers, one piece each; `fail` makes the body break after them, as a lost connection does. */
export function chunkOf(buffers: Buffer[], options: ChunkOptions & { fail?: boolean } = {}): ChunkSource {
  const { fail, ...rest } = options;
  const stream = Readable.from(
    (async function* () {
      for (const piece of buffers) yield piece;
      if (fail) throw new Error('connection reset');
    })(),
  );
  return chunkOfStream(stream, rest);
}

/**
 * A chunk whose stream yields `data` in pieces of `pieceSize` bytes (odd by default, so that
 * pieces straddle part boundaries); `failAfter` breaks the body after that many bytes, as a lost
 * connection does.
 */
export function chunkFrom(data: Buffer, options: ChunkOptions & { pieceSize?: number; failAfter?: number } = {}): ChunkSource {
  const { pieceSize = 65_537, failAfter, ...rest } = options;
  const stream = Readable.from(
    (async function* () {
      const end = failAfter ?? data.length;
      for (let start = 0; start < end; start += pieceSize) yield data.subarray(start, Math.min(start + pieceSize, end));
      if (failAfter !== undefined) throw new Error('connection reset');
    })(),
  );
  return chunkOfStream(stream, rest);
}

/** An upload's bytes (or a range of them) as the backend serves them. */
export async function readAll(backend: TusStorageBackend, upload: UploadInfo, range?: { start?: number; end?: number }): Promise<Buffer> {
  return buffer(await backend.createReadStream(upload, range));
}
