import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { TusConfig } from './tus-config.js';
import { TusStorageService } from './tus-storage.service.js';

/**
 * Removes expired unfinished uploads on a timer (option `cleanupIntervalSeconds`): one sweep at a
 * time, stopped with the module, failures logged and never fatal. Each removal emits
 * `tus.pre-terminate` / `tus.post-terminate`; completed uploads are never touched.
 */
@Injectable()
export class TusCleanupService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('TusModule');
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    private readonly uploads: TusStorageService,
  ) {}

  onApplicationBootstrap(): void {
    const interval = this.config.cleanupIntervalMs;
    if (interval === undefined) return;
    if (this.config.store.list === undefined) {
      // A backend without the listing capability cannot be swept: say so once rather than fail every sweep.
      this.logger.warn('cleanupIntervalSeconds is set, but the storage backend cannot list its uploads (no list()): no expiry sweep');
      return;
    }
    this.timer = setInterval(() => void this.sweep(), interval);
    this.timer.unref();
  }

  async onModuleDestroy(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }

  /** One sweep, unless one is still running. */
  sweep(): Promise<void> {
    this.running ??= this.uploads
      .deleteExpired()
      .then((removed) => {
        if (removed.length > 0) this.logger.log(`Removed ${removed.length} expired upload(s)`);
      })
      .catch((error: unknown) => {
        this.logger.error(`Expiry cleanup failed: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }
}
