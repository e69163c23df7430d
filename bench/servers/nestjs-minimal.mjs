// nestjs-tus as a user would mount it with nothing else: an app module with only TusModule and
// EventEmitterModule, the file backend (or S3: TUS_STORAGE=s3), Express (or HTTP_ADAPTER=fastify). Needs the built
// library (dist/libs/tus, `npm run build`). This is what the module costs, without the sample's
// own work (its upload listener reads every finished upload back to hash it).
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { dirname, join } from 'node:path';

// TUS_LIBRARY: another build of the library (bench/run.mjs --before builds an earlier commit's).
const library = process.env.TUS_LIBRARY;
const { TusModule } = await import(library || '../../dist/libs/tus/index.js');

// TUS_STORAGE=s3: the S3 backend of the same build, on the sample's S3_* variables (bench/run.mjs
// --s3 sets them), with the client the README recommends for S3-compatible servers.
let storage;
if (process.env.TUS_STORAGE === 's3') {
  const env = process.env;
  const [{ S3Client }, { S3StorageBackend }] = await Promise.all([
    import('@aws-sdk/client-s3'),
    import(library ? join(dirname(library), 's3.js') : '../../dist/libs/tus/s3.js'),
  ]);
  const client = new S3Client({
    endpoint: env.S3_ENDPOINT,
    region: env.S3_REGION || 'us-east-1',
    forcePathStyle: env.S3_FORCE_PATH_STYLE !== 'false',
    credentials: { accessKeyId: env.S3_ACCESS_KEY_ID, secretAccessKey: env.S3_SECRET_ACCESS_KEY },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  storage = new S3StorageBackend({ client, bucket: env.S3_BUCKET, keyPrefix: env.S3_KEY_PREFIX ?? '' });
}

const host = process.env.HOST || '127.0.0.1';
const port = Number(process.env.PORT ?? 0);
const path = process.env.TUS_PATH || '/files';
const uploadDir = process.env.UPLOAD_DIR || './uploads';

class AppModule {}
Module({
  imports: [EventEmitterModule.forRoot(), TusModule.forRoot({ uploadDir, relativeLocation: true, ...(storage ? { storage } : {}) }, { path })],
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
