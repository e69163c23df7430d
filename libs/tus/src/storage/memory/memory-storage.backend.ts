import { Readable, Writable } from 'node:stream';
import { UploadNotFoundError } from '../../errors/tus.errors.js';
import type { NewUpload, UploadInfo } from '../../protocol/upload-info.js';
import { keepsBytesAfter } from '../chunk-outcome.js';
import { pumpChunk } from '../chunk-pump.js';
import type {
  ChunkSource,
  TusConcatenationCapability,
  TusListingCapability,
  TusStorageBackendCore,
  TusUnfinishedReadsCapability,
  UploadChanges,
} from '../tus-storage-backend.interface.js';

interface StoredUpload {
  info: UploadInfo;
  chunks: Buffer[];
}

/**
 * Keeps uploads in this process's memory: for unit tests of code that uses the module (and of
 * the module's own core), never for production (nothing survives a restart, and every byte is
 * held in RAM). It follows the contract as the file and S3 backends do (same rules for what an
 * interrupted chunk keeps), with concatenation, listing and unfinished reads, and no lock of its
 * own: the module serialises writers in-process, which is all one process needs.
 */
export class MemoryStorageBackend
  implements TusStorageBackendCore, TusConcatenationCapability, TusListingCapability, TusUnfinishedReadsCapability
{
  readonly readsUnfinished = true;
  private readonly uploads = new Map<string, StoredUpload>();

  async create(upload: NewUpload): Promise<UploadInfo> {
    if (this.uploads.has(upload.id)) throw new Error(`Upload ${upload.id} exists`);
    const info: UploadInfo = { ...upload, offset: 0, completedAt: null, storage: { type: 'memory' } };
    this.uploads.set(upload.id, { info, chunks: [] });
    return { ...info };
  }

  async get(id: string): Promise<UploadInfo> {
    return { ...this.stored(id).info };
  }

  async update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo> {
    const stored = this.stored(upload.id);
    stored.info = { ...stored.info, ...changes };
    return { ...stored.info };
  }

  async write(upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges = {}): Promise<UploadInfo> {
    const stored = this.stored(upload.id);
    const received: Buffer[] = [];
    const sink = new Writable({
      write(piece: Buffer, _encoding, callback) {
        received.push(piece);
        callback();
      },
    });
    let failure = await pumpChunk(chunk, sink);
    let kept = failure === undefined || keepsBytesAfter(failure, chunk) ? received : [];
    const bytes = kept.reduce((sum, piece) => sum + piece.length, 0);
    if (failure === undefined) {
      try {
        await chunk.verify(upload.offset + bytes);
      } catch (error) {
        failure = error;
        kept = [];
      }
    }
    const keptBytes = kept.reduce((sum, piece) => sum + piece.length, 0);
    if (keptBytes > 0 || failure === undefined) {
      const next: UploadInfo = { ...stored.info, ...changes, offset: stored.info.offset + keptBytes };
      if (next.completedAt === null && next.offset === next.length) next.completedAt = new Date();
      stored.chunks.push(...kept);
      stored.info = next;
    }
    if (failure !== undefined) throw failure;
    return { ...stored.info };
  }

  async concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    const chunks = parts.flatMap((part) => this.stored(part.id).chunks);
    const length = chunks.reduce((sum, piece) => sum + piece.length, 0);
    const info: UploadInfo = { ...upload, length, offset: length, completedAt: new Date(), storage: { type: 'memory' } };
    this.uploads.set(upload.id, { info, chunks: [...chunks] });
    return { ...info };
  }

  async remove(upload: UploadInfo): Promise<void> {
    this.stored(upload.id);
    this.uploads.delete(upload.id);
  }

  async createReadStream(upload: UploadInfo, range: { start?: number; end?: number } = {}): Promise<Readable> {
    const all = Buffer.concat(this.stored(upload.id).chunks);
    return Readable.from([all.subarray(range.start ?? 0, range.end === undefined ? undefined : range.end + 1)]);
  }

  async *list(): AsyncIterable<UploadInfo> {
    for (const { info } of [...this.uploads.values()]) yield { ...info };
  }

  private stored(id: string): StoredUpload {
    const stored = this.uploads.get(id);
    if (stored === undefined) throw new UploadNotFoundError();
    return stored;
  }
}
