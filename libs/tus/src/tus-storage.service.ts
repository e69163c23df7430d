import { Inject, Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { TUS_CONFIG, type TusConfig } from './tus.config.js';
import { TusClock } from './tus.clock.js';
import { InvalidRequestError } from './tus.errors.js';
import { TusUploadService } from './tus-upload.service.js';
import { UploadAccess } from './upload-access.js';
import { isExpired, type UploadInfo } from './upload-info.js';

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
  deleteExpired(): Promise<UploadInfo[]> {
    return this.uploads.removeExpired();
  }
}
