import { Readable } from 'node:stream';
import { PayloadTooLargeError, UploadNotFoundError } from '../../errors/tus.errors.js';
import { isValidUploadId } from '../../protocol/upload-id.js';
import type { NewUpload, UploadInfo, UploadStorageLocation } from '../../protocol/upload-info.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { ChunkSource, ReleaseLock, TusStorageBackend, UploadChanges } from '../tus-storage-backend.interface.js';
import { AzureBlobs } from './azure-blobs.js';
import { assembleConcatenation } from './azure-concatenation.js';
import { azureStatus, isNotFound } from './azure-errors.js';
import { checkContainerWritable } from './azure-health.js';
import { AzureInfoStore } from './azure-info-store.js';
import { acquireAzureLock } from './azure-lease-lock.js';
import { type AzureBlobStorageOptions } from './azure-storage.options.js';
import { resolveAzureBlobStorageOptions } from './azure-storage-options.validation.js';
import { bytesIn, type AzureUploadState } from './azure-upload-state.js';
import { writeChunk } from './azure-block-writer.js';
import { blockSizeFor } from './block-size.js';
import { isLockLeftover } from './lock-leftovers.js';
import { blocksStillStaged, mayHaveLostBlocks } from './staged-blocks.js';

/**
 * Stores each upload in an Azure Blob Storage container as `<prefix><id>` (a block blob: its
 * blocks are staged as the bytes arrive and committed once the upload is complete), `<prefix><id>.info`
 * (the state, as JSON: the upload's fields and its staged blocks) and `<prefix><id>.lock` (leased
 * while a request writes; see acquireAzureLock). Any number of processes may share the container:
 * writers of one upload are serialised by the lease, every write of `.info` is conditional on the
 * version the writer read, and each request stages blocks under ids of its own, so a request that
 * lost a race can neither record nor overwrite anything of the winner's.
 */
export class AzureBlobStorageBackend implements TusStorageBackend {
  readonly keyPrefix: string;
  private readonly blobs: AzureBlobs;
  private readonly infos: AzureInfoStore;
  private readonly blockSize: number;
  private readonly maxBlocks: number;
  private readonly maxInFlight: number;
  private readonly lockTimeoutMs: number;
  private readonly leaseSeconds: number;
  private readonly localLocks = new KeyedMutex();
  /** Whether concatenation copies inside the service; false once the service refused a copy. */
  private readonly copy = { serverSide: true };

  constructor(options: AzureBlobStorageOptions) {
    const resolved = resolveAzureBlobStorageOptions(options);
    this.keyPrefix = resolved.keyPrefix;
    this.blockSize = resolved.blockSize;
    this.maxBlocks = resolved.maxBlocks;
    this.maxInFlight = resolved.maxConcurrentBlockUploads;
    this.lockTimeoutMs = resolved.lockTimeoutMs;
    this.leaseSeconds = Math.min(Math.max(Math.round(resolved.lockStaleMs / 1000), 15), 60);
    this.blobs = new AzureBlobs(resolved.containerClient, resolved);
    this.infos = new AzureInfoStore(this.blobs, this.keyPrefix);
  }

  /** The container's name. */
  get container(): string {
    return this.blobs.container.containerName;
  }

  async init(): Promise<void> {
    try {
      await this.blobs.checkContainer();
    } catch (error) {
      const reason = error instanceof Error ? `${error.message.split('\n')[0]} ${azureStatus(error) ?? ''}`.trim() : String(error);
      throw new Error(`AzureBlobStorageBackend cannot use container "${this.container}" (${reason}): create the container, or check the client's URL and credential`, {
        cause: error,
      });
    }
  }

  /** Reachable and writable: the container takes a probe blob under the key prefix. */
  checkHealth(): Promise<void> {
    return checkContainerWritable(this.blobs, this.keyPrefix);
  }

  async create(upload: NewUpload): Promise<UploadInfo> {
    const blockSize = blockSizeFor(upload.length, this.maxBlocks, this.blockSize);
    if (blockSize === null) throw new PayloadTooLargeError(`Upload-Length exceeds what ${this.maxBlocks} blocks can hold`);
    const info: UploadInfo = { ...upload, offset: 0, completedAt: null, storage: this.location(upload.id) };
    return this.infos.save(info, { blockSize, blocks: [], stagedAt: null }, { ifNoneMatch: '*' });
  }

  async get(id: string): Promise<UploadInfo> {
    const upload = await this.infos.get(id);
    const { etag, azure } = await this.infos.snapshotOf(upload);
    if (!mayHaveLostBlocks(azure, Date.now())) return upload;
    // Blocks Azure discarded after a week unused: the offset goes back to what is still staged.
    const blocks = await blocksStillStaged(this.blobs, this.infos.dataName(id), azure.blocks);
    if (blocks.length === azure.blocks.length) return upload;
    return this.infos.save({ ...upload, offset: bytesIn(blocks) }, { ...azure, blocks }, { ifMatch: etag });
  }

  async lock(id: string, onReleaseRequested?: () => void): Promise<ReleaseLock> {
    const started = Date.now();
    const releaseLocal = await this.localLocks.acquire(id, this.lockTimeoutMs);
    try {
      const releaseShared = await acquireAzureLock(this.blobs, `${this.infos.dataName(id)}.lock`, {
        timeoutMs: Math.max(this.lockTimeoutMs - (Date.now() - started), 0),
        leaseSeconds: this.leaseSeconds,
        onReleaseRequested,
      });
      return async () => {
        await releaseShared();
        releaseLocal();
      };
    } catch (error) {
      releaseLocal();
      throw error;
    }
  }

  async update(upload: UploadInfo, changes: UploadChanges): Promise<UploadInfo> {
    const { etag, azure } = await this.infos.snapshotOf(upload);
    const next = { ...upload, ...changes };
    return this.infos.save(next, this.resized(azure, upload, next.length), { ifMatch: etag });
  }

  async write(upload: UploadInfo, chunk: ChunkSource, changes: UploadChanges = {}): Promise<UploadInfo> {
    const snapshot = await this.infos.snapshotOf(upload);
    const state = this.resized(snapshot.azure, upload, changes.length ?? upload.length);
    const context = { blobs: this.blobs, infos: this.infos, maxBlocks: this.maxBlocks, maxInFlight: this.maxInFlight };
    const { saved, failure } = await writeChunk(context, upload, snapshot, state, chunk, changes);
    const result = saved.length !== null && saved.offset === saved.length ? await this.complete(saved) : saved;
    if (failure !== undefined) throw failure;
    return result;
  }

  async concatenate(upload: NewUpload | UploadInfo, parts: UploadInfo[]): Promise<UploadInfo> {
    const sources = parts.map((part) => ({ name: this.dataNameOf(part), size: part.offset }));
    const length = sources.reduce((sum, source) => sum + source.size, 0);
    const azure: AzureUploadState = { blockSize: this.blockSize, blocks: [], stagedAt: null };
    // A final created earlier (concatenation-unfinished) has its .info, replaced conditionally
    // below; a new one is written first, so that an id that exists is refused before any copy.
    const existing = 'storage' in upload;
    const placeholder = existing
      ? upload
      : await this.infos.save({ ...upload, length, offset: 0, completedAt: null, storage: this.location(upload.id) }, azure, { ifNoneMatch: '*' });
    try {
      const { etag } = await this.infos.snapshotOf(placeholder);
      const options = { blockSize: this.blockSize, maxBlocks: this.maxBlocks, maxInFlight: this.maxInFlight, copy: this.copy };
      await assembleConcatenation(this.blobs, this.infos.dataName(upload.id), sources, options);
      return await this.infos.save({ ...placeholder, length, offset: length, completedAt: new Date() }, azure, { ifMatch: etag });
    } catch (error) {
      if (!existing) await this.remove(placeholder).catch(() => undefined);
      throw error;
    }
  }

  async remove(upload: UploadInfo): Promise<void> {
    const name = this.infos.dataName(upload.id);
    // .info first: once it is gone the upload is unknown, whatever happens to the other blobs.
    await this.blobs.delete(this.infos.infoName(upload.id));
    // Deleting a blob that was never committed leaves its staged blocks on Azure (Azurite removes
    // them): committing an empty list first discards every uncommitted block, then the blob goes.
    if (upload.completedAt === null) await this.blobs.commitBlocks(name, []);
    await this.blobs.delete(name);
    for await (const other of this.blobs.listNames(`${name}.`)) {
      // The lock is leased by the caller, and deleted by its release.
      if (other !== `${name}.lock`) await this.blobs.delete(other).catch(() => undefined);
    }
  }

  async createReadStream(upload: UploadInfo, range: { start?: number; end?: number } = {}): Promise<Readable> {
    // Azure answers 416 to any range of an empty blob.
    if (upload.offset === 0) return Readable.from([]);
    const start = range.start ?? 0;
    const count = range.end === undefined ? undefined : range.end - start + 1;
    try {
      return await this.blobs.getStream(this.dataNameOf(upload), start, count);
    } catch (error) {
      // Deleted since its state was read (a DELETE racing the download): a 404, not a 500.
      if (isNotFound(error)) throw new UploadNotFoundError();
      throw error;
    }
  }

  /**
   * Every upload under the key prefix. On the way (the expiry sweep lists every interval), lock
   * blobs a crash left behind are deleted: no other sweep would reach those of an upload whose
   * `.info` is gone (see isLockLeftover). No request more than the listing unless there is one.
   */
  async *list(): AsyncIterable<UploadInfo> {
    const now = Date.now();
    for await (const blob of this.blobs.list(this.keyPrefix)) {
      // Conditional on the version listed, and refused while a lease holds it: never a live lock.
      if (isLockLeftover(blob, now)) await this.blobs.deleteVersion(blob.name, blob.etag).catch(() => undefined);
      const { name } = blob;
      if (!name.endsWith('.info')) continue;
      const id = name.slice(this.keyPrefix.length, -'.info'.length);
      if (!isValidUploadId(id)) continue;
      try {
        yield await this.get(id);
      } catch (error) {
        if (!(error instanceof UploadNotFoundError)) throw error;
      }
    }
  }

  /** Commits the blocks of an upload whose last byte is recorded, then records the completion. */
  private async complete(upload: UploadInfo): Promise<UploadInfo> {
    const { etag, azure } = await this.infos.snapshotOf(upload);
    const name = this.infos.dataName(upload.id);
    try {
      await this.blobs.commitBlocks(name, azure.blocks.map((block) => block.id));
    } catch (error) {
      // A retry after a commit whose record failed: the blob is whole already.
      if ((await this.blobs.size(name).catch(() => null)) !== upload.length) throw error;
    }
    return this.infos.save({ ...upload, completedAt: new Date() }, { ...azure, blocks: [] }, { ifMatch: etag });
  }

  /** The state with the block size grown for a length declared now (deferred length); 413 if it cannot fit. */
  private resized(azure: AzureUploadState, upload: UploadInfo, length: number | null): AzureUploadState {
    if (upload.length !== null || length === null) return azure;
    const blockSize = blockSizeFor(length - bytesIn(azure.blocks), this.maxBlocks - azure.blocks.length, azure.blockSize);
    if (blockSize === null) throw new PayloadTooLargeError(`Upload-Length exceeds what ${this.maxBlocks} blocks can hold`);
    return { ...azure, blockSize };
  }

  private location(id: string): UploadStorageLocation {
    return { type: 'azure', container: this.container, blob: this.infos.dataName(id) };
  }

  private dataNameOf(upload: UploadInfo): string {
    return upload.storage.type === 'azure' && typeof upload.storage.blob === 'string' ? upload.storage.blob : this.infos.dataName(upload.id);
  }
}
