import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { TUS_CONFIG, type TusConfig } from '../module/tus-config.factory.js';
import { TusClock } from './tus.clock.js';
import { InvalidRequestError } from '../errors/tus.errors.js';
import { TusUploadService } from './tus-upload.service.js';
import { UploadAccess } from './upload-access.js';
import { isExpired, type UploadInfo } from '../protocol/upload-info.js';
import { TUS_METRICS, type TusMetrics } from './observability/tus-metrics.js';
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

/**
 * The application's handle on uploads, injectable anywhere the module is visible (everywhere with
 * `isGlobal`). Errors are the module's typed exceptions, e.g. `UploadNotFoundError`.
 */
@Injectable()
export class TusStorageService {
  constructor(
    @Inject(TUS_CONFIG) private readonly config: TusConfig,
    private readonly uploads: TusUploadService,
    private readonly access: UploadAccess,
    private readonly clock: TusClock,
    @Inject(TUS_METRICS) private readonly metrics: TusMetrics,
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

  /** Uploads that expired before they were completed. */
  async listExpired(): Promise<UploadInfo[]> {
    const now = this.clock.now();
    const expired: UploadInfo[] = [];
    for await (const upload of this.config.backend.list()) if (isExpired(upload, now)) expired.push(upload);
    return expired;
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
