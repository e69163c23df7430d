import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { type NextFunction, type Request, type Response } from 'express';
import { AppModule } from './app.module.js';
import type { SampleConfig } from './sample.config.js';
import { pageDirectory, tusClientDirectory } from './static-assets.js';

/**
 * The sample on the HTTP adapter its config names. The tus module needs nothing from either:
 * only the page's static files are served differently (express.static or @fastify/static).
 */
export async function createSampleApp(config: SampleConfig): Promise<INestApplication> {
  if (config.httpAdapter === 'fastify') {
    // Loaded only when chosen, so an Express deployment needs no Fastify packages.
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    const app = await NestFactory.create<import('@nestjs/platform-fastify').NestFastifyApplication>(AppModule, new FastifyAdapter());
    app.useStaticAssets({ root: pageDirectory(), prefix: '/' });
    // @fastify/static decorates the reply once; a second root must not decorate it again.
    app.useStaticAssets({ root: tusClientDirectory(), prefix: '/vendor/tus-js-client/', decorateReply: false });
    return app;
  }
  const app = await NestFactory.create<NestExpressApplication>(AppModule);
  // express.static runs before any route: left to it, `/files/..` names the page's folder and
  // answered its 301 redirect. Nothing under the tus path is a static file.
  const page = express.static(pageDirectory());
  const tusPath = `/${config.tusPath.replace(/^\/+|\/+$/g, '')}`.toLowerCase();
  app.use((request: Request, response: Response, next: NextFunction) => {
    const path = request.path.toLowerCase();
    if (path === tusPath || path.startsWith(`${tusPath}/`)) return next();
    return page(request, response, next);
  });
  app.useStaticAssets(tusClientDirectory(), { prefix: '/vendor/tus-js-client/' });
  return app;
}
