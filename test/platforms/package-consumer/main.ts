// A new user's Nest app, compiled against the packed nestjs-tus (test/platforms/package.e2e-spec.ts
// installs the tarball beside it): the README's minimal module, an event listener, and an app
// controller calling TusStorageService. Started as `node dist/main.js <express|fastify> <uploadDir>`.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { TusEvent, TusModule, type TusPostEvent, TusStorageService, type UploadInfo } from 'nestjs-tus';

const [platform, uploadDir] = process.argv.slice(2);

@Injectable()
class FinishLog {
  @OnEvent(TusEvent.POST_FINISH)
  finished({ upload }: TusPostEvent): void {
    console.log(`finished ${upload.id} ${upload.length}`);
  }
}

@Controller('my-uploads')
class MyUploadsController {
  constructor(private readonly uploads: TusStorageService) {}

  @Get(':id')
  info(@Param('id') id: string): Promise<UploadInfo> {
    return this.uploads.get(id);
  }
}

@Module({
  imports: [EventEmitterModule.forRoot(), TusModule.forRoot({ path: '/files', uploadDir, maxSize: 10 * 1024 ** 2 })],
  controllers: [MyUploadsController],
  providers: [FinishLog],
})
class AppModule {}

const options = { logger: ['error' as const, 'warn' as const] };
const app =
  platform === 'fastify' ? await NestFactory.create(AppModule, new FastifyAdapter(), options) : await NestFactory.create(AppModule, options);
await app.listen(0, '127.0.0.1');
console.log(`listening ${await app.getUrl()}`);
