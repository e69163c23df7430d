import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { AppModule } from './app.module.js';
import { readSampleConfig } from './sample.config.js';
import { pageDirectory, tusClientDirectory } from './static-assets.js';

async function bootstrap(): Promise<void> {
  const { port, host, tusPath } = readSampleConfig();
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  app.enableShutdownHooks();
  // The upload page at `/`, and the tus client it loads, served from node_modules (never a CDN).
  app.useStaticAssets(pageDirectory());
  app.useStaticAssets(tusClientDirectory(), { prefix: '/vendor/tus-js-client/' });
  await app.listen(port, host);
  // The actual address (PORT=0 picks a free port): tests and scripts read this line.
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  console.log(`nestjs-tus sample listening: ${url}${tusPath}`);
  console.log(`upload page: ${url}/`);
}

void bootstrap();
