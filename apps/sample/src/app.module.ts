import { Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { TusModule } from 'nestjs-tus';
import { readSampleConfig } from './sample.config.js';
import { UploadLogListener } from './upload-log.listener.js';

const config = readSampleConfig();

@Module({
  imports: [
    EventEmitterModule.forRoot(),
    TusModule.forRootAsync({
      path: config.tusPath,
      isGlobal: true,
      useFactory: () => ({
        uploadDir: config.uploadDir,
        maxSize: config.maxSize,
        expirationSeconds: config.expirationSeconds,
      }),
    }),
  ],
  providers: [UploadLogListener],
})
export class AppModule {}
