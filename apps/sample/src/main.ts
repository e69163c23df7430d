import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module.js';
import { readSampleConfig } from './sample.config.js';

async function bootstrap(): Promise<void> {
  const { port, host, tusPath } = readSampleConfig();
  const app = await NestFactory.create(AppModule);
  app.enableShutdownHooks();
  await app.listen(port, host);
  // The actual address (PORT=0 picks a free port): tests and scripts read this line.
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  console.log(`nestjs-tus sample listening: ${url}${tusPath}`);
}

void bootstrap();
