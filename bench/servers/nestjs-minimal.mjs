// nestjs-tus as a user would mount it with nothing else: an app module with only TusModule and
// EventEmitterModule, the file backend, Express (or HTTP_ADAPTER=fastify). Needs the built
// library (dist/libs/tus, `npm run build`). This is what the module costs, without the sample's
// own work (its upload listener reads every finished upload back to hash it).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';

// TUS_LIBRARY: another build of the library (bench/run.mjs --before builds an earlier commit's).
const { TusModule } = await import(process.env.TUS_LIBRARY || '../../dist/libs/tus/index.js');

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 0);
const path = process.env.TUS_PATH || '/files';
const uploadDir = process.env.UPLOAD_DIR || './uploads';

class AppModule {}
Module({
  imports: [EventEmitterModule.forRoot(), TusModule.forRoot({ uploadDir, relativeLocation: true }, { path })],
})(AppModule);

let adapter;
if (process.env.HTTP_ADAPTER === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  adapter = new FastifyAdapter();
}
const options = { logger: ['error', 'warn'] };
const app = adapter ? await NestFactory.create(AppModule, adapter, options) : await NestFactory.create(AppModule, options);
app.enableShutdownHooks();
await app.listen(port, host);
const server = app.getHttpServer();
server.keepAliveTimeout = 60_000;
console.log(`nestjs-tus (module only) listening: http://${host}:${server.address().port}${path}`);
