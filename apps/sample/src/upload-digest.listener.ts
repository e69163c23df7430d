import { Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { TusEvent, TusStorageService, type TusPostEvent, type UploadInfo } from 'nestjs-tus';
import { readSampleConfig } from './sample.config.js';
import { UploadRegistry } from './upload-registry.service.js';

/**
 * Hashes every completed upload and records it in the {@link UploadRegistry}. The bytes are read
 * back through `TusStorageService`, so this works the same whichever backend stores them.
 */
@Injectable()
export class UploadDigestListener implements OnApplicationBootstrap {
  private readonly logger = new Logger('Uploads');
  private readonly tusPath = readSampleConfig().tusPath;

  constructor(
    private readonly storage: TusStorageService,
    private readonly registry: UploadRegistry,
  ) {}

  @OnEvent(TusEvent.POST_FINISH)
  async onFinish({ upload }: TusPostEvent): Promise<void> {
    try {
      await this.record(upload);
    } catch (error) {
      this.logger.error(`could not hash upload ${upload.id}: ${(error as Error).message}`);
    }
  }

  /** A completed upload can still be deleted (tus termination, `TusStorageService.delete`). */
  @OnEvent(TusEvent.POST_TERMINATE)
  onTerminate({ upload }: TusPostEvent): void {
    this.registry.remove(upload.id);
  }

  /** Lists the uploads completed before this process started, in the background. */
  onApplicationBootstrap(): void {
    void this.recordExisting().catch((error: Error) => this.logger.error(`could not list uploads: ${error.message}`));
  }

  private async recordExisting(): Promise<void> {
    let after: string | null = null;
    do {
      const page = await this.storage.list({ status: 'completed', after, limit: 1000 });
      // Partial uploads are pieces of a concatenated one, not files of their own.
      for (const upload of page.uploads) if (upload.concat?.type !== 'partial') await this.onFinish({ upload });
      after = page.next;
    } while (after !== null);
  }

  private async record(upload: UploadInfo): Promise<void> {
    const hash = createHash('sha256');
    await pipeline(await this.storage.createReadStream(upload.id), hash);
    this.registry.add({
      id: upload.id,
      name: upload.metadata.filename || upload.id,
      size: upload.length ?? upload.offset,
      sha256: hash.digest('hex'),
      completedAt: (upload.completedAt ?? new Date()).toISOString(),
      // The module's own download route (`GET <path>/<id>`, option `download`).
      downloadUrl: `${this.tusPath}/${upload.id}`,
    });
  }
}
