import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { TusStorageService } from '../tus-storage.service.js';

/**
 * A `@nestjs/terminus` health indicator: up when the tus storage is reachable and writable (file
 * backend: its folder takes a probe file; S3: its bucket takes a probe object), down with the
 * reason otherwise. From `nestjs-tus/terminus`, so that only apps that use terminus need it.
 *
 * Provide it in a module that imports `TerminusModule` and sees `TusStorageService` (a
 * `TusModule` with `isGlobal: true`, or imported there):
 *
 * @example
 * @Get('health')
 * @HealthCheck()
 * check() {
 *   return this.health.check([() => this.tus.isHealthy('uploads')]);
 * }
 */
@Injectable()
export class TusHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly uploads: TusStorageService,
  ) {}

  /**
   * Checks the storage now. `timeoutMs`: a check that has not answered by then is down.
   * @param key the key of the result (`{ [key]: { status, backend, ... } }`)
   */
  async isHealthy<const Key extends string = 'tus-storage'>(key?: Key, options: { timeoutMs?: number } = {}): Promise<HealthIndicatorResult<Key>> {
    const indicator = this.indicators.check((key ?? 'tus-storage') as Key);
    const health = await this.uploads.checkHealth(options);
    const details = { backend: health.backend, ...(health.checked ? {} : { checked: false }) };
    return health.healthy ? indicator.up(details) : indicator.down({ ...details, message: health.reason ?? 'unhealthy' });
  }
}
