import { Inject, Injectable } from '@nestjs/common';
import { TusConfig, type TusIntent } from './tus-config.js';
import type { RequestContext } from './upload-commands.js';
import { TusClock } from './tus.clock.js';
import { ForbiddenUploadError, UploadExpiredError, UploadNotFoundError } from '../errors/tus.errors.js';
import { isValidUploadId } from '../protocol/upload-id.js';
import { ActiveWrites } from './active-writes.js';
import { isExpired, type UploadInfo } from '../protocol/upload-info.js';

/**
 * How every operation reaches an upload: by a valid id (anything else is 404 before it reaches
 * storage), not expired (410), authorised (the `authorize` option), and under its lock, giving way
 * to a stalled writer.
 */
@Injectable()
export class UploadAccess {
  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    @Inject(TusClock) private readonly clock: TusClock,
    private readonly activeWrites: ActiveWrites,
  ) {}

  /** Reads an upload by id; an id that is not one of ours is 404 before it reaches storage. */
  async get(id: string): Promise<UploadInfo> {
    if (!isValidUploadId(id)) throw new UploadNotFoundError();
    return this.config.backend.get(id);
  }

  /** Reads an upload for a protocol request: unknown ids are 404, expired unfinished uploads 410. */
  async getLive(id: string): Promise<UploadInfo> {
    const upload = await this.get(id);
    if (isExpired(upload, this.clock.now())) throw new UploadExpiredError();
    return upload;
  }

  /** Applies the `authorize` option; an app's own calls (context null) are trusted. */
  authorize(context: RequestContext | null, intent: TusIntent, upload: UploadInfo): Promise<void> | undefined {
    // Without the option nothing to wait for, not even a promise.
    if (context === null || this.config.authorize === undefined) return undefined;
    return this.checkAuthorized(this.config.authorize, context, intent, upload);
  }

  /** Runs `work` holding the upload's lock. */
  async withLock<T>(id: string, work: () => Promise<T>): Promise<T> {
    if (!isValidUploadId(id)) throw new UploadNotFoundError();
    // While waiting, and while holding (asked by another process), give way to a stalled writer.
    const takeOver = () => void this.activeWrites.stopIfStalled(id);
    takeOver();
    const polling = setInterval(takeOver, 100);
    let release;
    try {
      release = await this.config.store.lock(id, takeOver);
    } finally {
      clearInterval(polling);
    }
    try {
      return await work();
    } finally {
      await release();
    }
  }

  private async checkAuthorized(
    authorize: NonNullable<TusConfig['authorize']>,
    context: RequestContext,
    intent: TusIntent,
    upload: UploadInfo,
  ): Promise<void> {
    if (!(await authorize(context, intent, upload))) throw new ForbiddenUploadError(`Not allowed to ${intent} this upload`);
  }
}
