import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { TusConfig } from './tus-config.js';
import { ActiveWrites } from './active-writes.js';

/**
 * A graceful stop (`app.close()`, or SIGTERM with `app.enableShutdownHooks()`): before Nest closes
 * the HTTP server, running PATCHes are ended keeping every byte they received, their state saved
 * and their locks released (at most `shutdownTimeoutSeconds`); new bodies meanwhile get 503. A
 * client whose PATCH was ended sees its connection close, asks the next process for the offset
 * and resumes there. Without this, Node's server waited for a stalled client's body for good, and
 * a process killed after a grace period lost the PATCH in flight.
 */
@Injectable()
export class TusShutdown implements BeforeApplicationShutdown {
  private readonly logger = new Logger('TusModule');

  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    private readonly activeWrites: ActiveWrites,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    const unsaved = await this.activeWrites.drain(this.config.shutdownTimeoutMs);
    if (unsaved.length > 0) {
      this.logger.warn(`Shutdown: ${unsaved.length} upload(s) still saving after ${this.config.shutdownTimeoutMs} ms (${unsaved.join(', ')}); their next request repairs them`);
    }
  }
}
