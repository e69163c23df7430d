import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { TusModule } from 'nestjs-tus';
import { readSampleConfig } from './sample.config.js';
import { sampleStorage } from './sample-storage.js';
import { SampleConfigController } from './sample-config.controller.js';
import { UploadDigestListener } from './upload-digest.listener.js';
import { UploadLogListener } from './upload-log.listener.js';
import { UploadRegistry } from './upload-registry.service.js';
import { UploadsController } from './uploads.controller.js';

const config = readSampleConfig();

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    TusModule.forRootAsync({
      path: config.tusPath,
      isGlobal: true,
      useFactory: async () => ({
        ...(await sampleStorage(config)),
        maxSize: config.maxSize,
        expirationSeconds: config.expirationSeconds,
        cors: config.corsOrigins === undefined ? undefined : { origin: config.corsOrigins },
        // On prom-client's default registry, which PrometheusModule serves at /metrics.
        metrics: config.metrics,
      }),
    }),
    ...(config.metrics ? [PrometheusModule.register()] : []),
  ],
  controllers: [SampleConfigController, UploadsController],
  providers: [UploadLogListener, UploadRegistry, ...(config.digest ? [UploadDigestListener] : [])],
})
export class AppModule {}
