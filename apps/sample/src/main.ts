import 'reflect-metadata';
import { createSampleApp } from './sample-app.js';
import { readSampleConfig } from './sample.config.js';

async function bootstrap(): Promise<void> {
  const config = readSampleConfig();
  const app = await createSampleApp(config);
  app.enableShutdownHooks();
  await app.listen(config.port, config.host);
  // The actual address (PORT=0 picks a free port): tests and scripts read this line.
  const url = (await app.getUrl()).replace('[::1]', 'localhost');
  console.log(`nestjs-tus sample listening: ${url}${config.tusPath} (${config.httpAdapter})`);
  console.log(`upload page: ${url}/`);
}

void bootstrap();
