import { Inject, Module, type NestModule, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost, ModuleRef } from '@nestjs/core';
import type { Server } from 'node:http';
import { ConfigurableTusModule, TUS_MODULE_OPTIONS, TusPath } from './tus.module-definition.js';
import { createTusConfig, createTusHttpConfig } from './tus-config.factory.js';
import { TusConfig } from '../core/tus-config.js';
import { TusHttpConfig } from '../http/tus-http-config.js';
import { UploadWriter } from '../core/upload-writer.js';
import { SystemClock, TusClock } from '../core/tus.clock.js';
import { TusStorageService } from '../core/tus-storage.service.js';
import { TusUploadService } from '../core/tus-upload.service.js';
import { UploadAccess } from '../core/upload-access.js';
import { TusConcatenationService } from '../core/tus-concatenation.service.js';
import { TusEventsEmitter } from '../core/events/tus-events.emitter.js';
import { TusResponder } from '../http/tus-responder.js';
import { TusRouteGuards } from '../http/tus-route.guards.js';
import { TusCleanupService } from '../core/tus-cleanup.service.js';
import { TusShutdown } from '../core/tus-shutdown.service.js';
import { ActiveWrites } from '../core/active-writes.js';
import { registerFastifyChunkParser } from '../http/fastify-body.js';
import { takeUploadBodiesOnArrival } from '../http/bodies-on-arrival.js';
import { shapeFastifyTusRoutes } from '../http/fastify-routes.js';
import { frameworkException } from '../http/framework-errors.js';
import { TusExceptionFilter } from '../http/tus-exception.filter.js';
import { answerUnroutedOnExpress, answerUnroutedOnFastify, type TusPathAnswer } from '../http/tus/unrouted-requests.js';
import { TusRequestObserver } from '../http/tus-request.observer.js';
import { IetfFrontDoor } from '../http/ietf/ietf-front-door.js';
import { passDraftBodiesOnFastify } from '../http/ietf/fastify-draft-body.js';
import { TusStorageBackend } from '../storage/tus-storage-backend.interface.js';
import { TusMetrics } from '../core/observability/tus-metrics.js';
import type { TusModuleOptions } from './tus-options.interface.js';

/**
 * A tus 1.0.0 server, and beside it the IETF draft "Resumable Uploads for HTTP" (interop versions
 * 3 to 8) on the same routes: `TusModule.forRoot({ ... })` or `TusModule.forRootAsync({ useFactory, inject })`,
 * with the extras `path` (default `/files`) and `isGlobal`. Exports {@link TusStorageService} and
 * the {@link TusStorageBackend} in use.
 *
 * Lifecycle events need `EventEmitterModule.forRoot()` in the app; without it none are sent.
 */
@Module({
  providers: [
    {
      provide: TusConfig,
      useFactory: createTusConfig,
      inject: [TUS_MODULE_OPTIONS, ModuleRef],
    },
    {
      provide: TusHttpConfig,
      // After TusConfig, which validates the options.
      useFactory: (options: TusModuleOptions, path: string) => createTusHttpConfig(options, path),
      inject: [TUS_MODULE_OPTIONS, TusPath, TusConfig],
    },
    {
      provide: TusStorageBackend,
      useFactory: (config: TusConfig) => config.storage,
      inject: [TusConfig],
    },
    {
      provide: TusMetrics,
      useFactory: (config: TusConfig) => config.metrics,
      inject: [TusConfig],
    },
    { provide: TusClock, useClass: SystemClock },
    TusEventsEmitter,
    TusResponder,
    IetfFrontDoor,
    TusRequestObserver,
    TusExceptionFilter,
    UploadAccess,
    TusConcatenationService,
    UploadWriter,
    TusUploadService,
    TusStorageService,
    TusCleanupService,
    TusRouteGuards,
    ActiveWrites,
    TusShutdown,
  ],
  exports: [TusStorageService, TusStorageBackend],
})
export class TusModule extends ConfigurableTusModule implements NestModule, OnModuleInit, OnApplicationBootstrap {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(TusPath) private readonly path: string,
    private readonly exceptionFilter: TusExceptionFilter,
    @Inject(TusConfig) private readonly config: TusConfig,
    @Inject(TusHttpConfig) private readonly httpConfig: TusHttpConfig,
    private readonly appConfig: ApplicationConfig,
  ) {
    super();
  }

  private readonly answer: TusPathAnswer = (exception, request, reply) => this.exceptionFilter.answer(exception, request, reply);

  /**
   * Not for middleware: the one module hook that runs once the HTTP adapter is known (also for an
   * app made from a compiled testing module) and before Nest registers the routes, which is when
   * Fastify's hooks must be in place. See {@link shapeFastifyTusRoutes}.
   */
  configure(): void {
    const adapter = this.adapterHost?.httpAdapter;
    shapeFastifyTusRoutes(adapter, this.path, (error, request, reply) => this.answer(frameworkException(error), request, reply));
    answerUnroutedOnFastify(adapter, this.mount(), this.config, this.answer);
    passDraftBodiesOnFastify(adapter, this.httpConfig.protocols);
  }

  /** Runs after Nest has registered the routes and before its own 404 and error handlers: see {@link answerUnroutedOnExpress}. */
  onModuleInit(): void {
    const adapter = this.adapterHost?.httpAdapter;
    registerFastifyChunkParser(adapter);
    answerUnroutedOnExpress(adapter, this.mount(), this.config, this.answer);
  }

  /**
   * The tus path as the routers see it: after the app's global prefix. (A prefix whose `exclude`
   * covers the tus path is not looked at: requests there no route serves keep Nest's answer.)
   */
  private mount(): string {
    const prefix = (this.appConfig?.getGlobalPrefix() ?? '').replace(/^\/+|\/+$/g, '');
    if (prefix === '') return this.path;
    return `/${prefix}${this.path === '/' ? '' : this.path}`;
  }

  /**
   * Node's HTTP server aborts any request not fully received within `requestTimeout` (5 minutes by
   * default): a large upload on a slow link would be cut every 5 minutes. Stalled bodies are
   * ended by `idleTimeoutSeconds` instead.
   *
   * An upload's body is taken in as the server receives the request, before the app's middleware
   * and guards: see {@link takeUploadBodiesOnArrival}.
   */
  onApplicationBootstrap(): void {
    const server = this.adapterHost?.httpAdapter?.getHttpServer() as Server | undefined;
    if (server && typeof server.requestTimeout === 'number') server.requestTimeout = 0;
    takeUploadBodiesOnArrival(server, this.mount());
  }
}
