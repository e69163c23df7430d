import 'reflect-metadata';
import { type DynamicModule, type INestApplication, Module, type ModuleMetadata } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Test } from '@nestjs/testing';
import { TusClock, TusModule, type TusModuleExtras, type TusModuleOptions } from 'nestjs-tus';
import { type BackendFixture, fileBackend } from './backends.js';

/** A Nest app listening on a real loopback port. */
export interface RunningApp {
  app: INestApplication;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  /** The tus collection URL, e.g. `http://127.0.0.1:<port>/files`. */
  url: string;
  close(): Promise<void>;
}

/** What {@link startTusApp} starts: a running app and the upload folder it was given. */
export type TusApp = RunningApp & { uploadDir: string };

/** The HTTP platforms the module runs on. */
export type Platform = 'express' | 'fastify';

/** Every HTTP platform: end-to-end tests run once per entry (`describe.each(PLATFORMS)`). */
export const PLATFORMS: Platform[] = ['express', 'fastify'];

/** A clock a test moves by hand, to expire uploads without waiting. */
export class ManualClock implements TusClock {
  constructor(public current = Date.now()) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(seconds: number): void {
    this.current += seconds * 1000;
  }
}

/**
 * Boots an app made of `imports` (and providers) on a free port; with `clock`, the module's
 * `TusClock` is that clock.
 */
export async function startApp(
  metadata: ModuleMetadata,
  path: string = '/files',
  platform: Platform = 'express',
  clock?: TusClock,
): Promise<RunningApp> {
  // forceCloseConnections: close() ends the connections still open instead of waiting for them. A
  // test's cut and stalled clients can leave a connection mid-request that Node only times out after
  // its 60 s headers timeout (seen: a 62 s close after the network-fault tests).
  const options = { logger: ['error', 'warn'] as ('error' | 'warn')[], forceCloseConnections: true };
  const adapter = platform === 'fastify' ? new FastifyAdapter() : undefined;
  let app: INestApplication;
  if (clock) {
    const moduleRef = await Test.createTestingModule(metadata).overrideProvider(TusClock).useValue(clock).compile();
    app = adapter ? moduleRef.createNestApplication(adapter, options) : moduleRef.createNestApplication(options);
  } else {
    @Module(metadata)
    class FixtureModule {}
    app = adapter ? await NestFactory.create(FixtureModule, adapter, options) : await NestFactory.create(FixtureModule, options);
  }
  await app.listen(0, '127.0.0.1');
  const { port } = app.getHttpServer().address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return { app, origin, url: `${origin}${path}`, close: () => app.close() };
}

/** A fresh upload folder under the OS temp dir, removed by `cleanup`. */
export async function tempDir(): Promise<{ path: string; cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'nestjs-tus-test-'));
  return { path, cleanup: () => rm(path, { recursive: true, force: true }) };
}

/**
 * The usual fixture: `TusModule.forRoot(options)` at `/files` with the event emitter, on the
 * file backend in a temporary folder unless `options.storage` says otherwise.
 */
export async function startTusApp(
  options: TusModuleOptions & TusModuleExtras = {},
  extra: {
    providers?: ModuleMetadata['providers'];
    imports?: (DynamicModule | ModuleMetadata['imports'])[];
    /** The storage to run on; the file backend in `uploadDir` by default. */
    backend?: BackendFixture;
    platform?: Platform;
    clock?: TusClock;
  } = {},
): Promise<TusApp> {
  const dir = await tempDir();
  const storage = await (extra.backend ?? fileBackend).create();
  const running = await startApp(
    {
      imports: [
        EventEmitterModule.forRoot(),
        TusModule.forRoot({ uploadDir: dir.path, ...storage.options, ...options }),
        ...((extra.imports ?? []) as []),
      ],
      providers: extra.providers ?? [],
    },
    options.path,
    extra.platform,
    extra.clock,
  );
  return {
    ...running,
    uploadDir: dir.path,
    close: async () => {
      await running.close();
      await storage.cleanup();
      await dir.cleanup();
    },
  };
}

/** Connections open to a server (an app's `getHttpServer()`), to see that none is left behind. */
export const openConnections = (server: Server): Promise<number> =>
  new Promise((resolve, reject) => server.getConnections((error, count) => (error ? reject(error) : resolve(count))));
