import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { TusConfig } from './tus-config.js';
import { TusClock } from './tus.clock.js';
import { InvalidRequestError, StorageCapabilityError } from '../errors/tus.errors.js';
import { TusUploadService } from './tus-upload.service.js';
import { UploadAccess } from './upload-access.js';
import { isExpired, type UploadInfo } from '../protocol/upload-info.js';
import { TusMetrics } from './observability/tus-metrics.js';
import { backendName } from './observability/instrumented-storage.backend.js';

/** What {@link TusStorageService.checkHealth} found. */
export interface TusStorageHealth {
  /** Reachable and writable (true too for a backend that has no check: see `checked`). */
  healthy: boolean;
  /** `file`, `s3`, or the lower-cased class name of another backend less `StorageBackend`. */
  backend: string;
  /** False when the backend has no `checkHealth()`: nothing was checked. */
  checked: boolean;
  /** Why it is not healthy. */
  reason?: string;
}

/** Which uploads {@link TusStorageService.list} returns. */
export interface TusListOptions {
  /**
   * Uploads per page, 1 to 1000.
   * @default 100
   */
  limit?: number;
  /** The `next` cursor of the previous page: the page starts after this id. */
  after?: string | null;
  /**
   * `completed`, `unfinished` (expired ones included until swept), or `all`.
   * @default 'all'
   */
  status?: 'all' | 'completed' | 'unfinished';
}

/** One page of {@link TusStorageService.list}. */
export interface TusListPage {
  /** Ordered by id. */
  uploads: UploadInfo[];
  /** Pass as `after` for the next page; null on the last one. */
  next: string | null;
}

/**
 * The application's handle on uploads, injectable anywhere the module is visible (everywhere with
 * `isGlobal`). Errors are the module's typed exceptions, e.g. `UploadNotFoundError`.
 */
@Injectable()
export class TusStorageService {
  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    private readonly uploads: TusUploadService,
    private readonly access: UploadAccess,
    @Inject(TusClock) private readonly clock: TusClock,
    @Inject(TusMetrics) private readonly metrics: TusMetrics,
  ) {}

  /** The upload's state; throws `UploadNotFoundError` for an unknown id. */
  get(id: string): Promise<UploadInfo> {
    return this.access.get(id);
  }

  /**
   * Streams the bytes of a completed upload, or the inclusive range `start`..`end` of them.
   * Throws `InvalidRequestError` for an unfinished upload.
   */
  async createReadStream(id: string, range: { start?: number; end?: number } = {}): Promise<Readable> {
    const upload = await this.access.get(id);
    if (upload.completedAt === null) throw new InvalidRequestError(`Upload ${id} is not complete`);
    return this.config.backend.createReadStream(upload, range);
  }

  /** Terminates an upload, with the `tus.pre-terminate` / `tus.post-terminate` events (request null). */
  delete(id: string): Promise<UploadInfo> {
    return this.uploads.terminate(id, null);
  }

  /**
   * One page of the uploads in storage, ordered by id: `list()`, then `list({ after: page.next })`
   * until `next` is null. Uploads created or removed meanwhile may or may not appear. Each page
   * walks the whole store (backends list in no order), so page with a large `limit`. Throws
   * `StorageCapabilityError` for a backend that cannot list.
   */
  async list(options: TusListOptions = {}): Promise<TusListPage> {
    const limit = options.limit ?? 100;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new RangeError('limit must be an integer from 1 to 1000');
    const after = options.after ?? null;
    const status = options.status ?? 'all';
    const page: UploadInfo[] = [];
    for await (const upload of this.listing()) {
      if (after !== null && upload.id <= after) continue;
      if (status === 'completed' && upload.completedAt === null) continue;
      if (status === 'unfinished' && upload.completedAt !== null) continue;
      page.push(upload);
      // Keeps at most limit + 1 entries: the extra one tells whether a next page exists.
      if (page.length > 2 * (limit + 1)) keepFirst(page, limit + 1);
    }
    keepFirst(page, limit + 1);
    const more = page.length > limit;
    const uploads = page.slice(0, limit);
    return { uploads, next: more ? uploads[uploads.length - 1]!.id : null };
  }

  /** Uploads that expired before they were completed. */
  async listExpired(): Promise<UploadInfo[]> {
    const now = this.clock.now();
    const expired: UploadInfo[] = [];
    for await (const upload of this.listing()) if (isExpired(upload, now)) expired.push(upload);
    return expired;
  }

  private listing(): AsyncIterable<UploadInfo> {
    const list = this.config.store.list;
    if (list === undefined) throw new StorageCapabilityError('list');
    return list();
  }

  /** Removes the uploads that expired unfinished (never a completed one) and returns them. */
  async deleteExpired(): Promise<UploadInfo[]> {
    const removed = await this.uploads.removeExpired();
    this.metrics.uploadsExpired(removed.length);
    return removed;
  }

  /**
   * Whether the storage is reachable and writable now (the backend's optional `checkHealth()`: the
   * file backend writes a probe file into its folder, the S3 backend a probe object into its
   * bucket), answered within `timeoutMs`. Never throws: the answer says what is wrong.
   */
  async checkHealth(options: { timeoutMs?: number } = {}): Promise<TusStorageHealth> {
    const backend = backendName(this.config.storage);
    if (this.config.backend.checkHealth === undefined) return { healthy: true, backend, checked: false };
    const timeoutMs = options.timeoutMs ?? 5_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      await Promise.race([this.config.backend.checkHealth(), timeout]);
      return { healthy: true, backend, checked: true };
    } catch (error) {
      return { healthy: false, backend, checked: true, reason: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Sorts `uploads` by id and keeps the first `count`. */
function keepFirst(uploads: UploadInfo[], count: number): void {
  uploads.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  uploads.length = Math.min(uploads.length, count);
}
