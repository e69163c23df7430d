import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { readSampleConfig } from './sample.config.js';

async function bootstrap(): Promise<void> {
  const { port, host, tusPath } = readSampleConfig();
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port, host);
  console.log(`nestjs-tus sample: tus endpoint at http://${host}:${port}${tusPath}`);
}

void bootstrap();
