import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, type LoggerService, Module, Param } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { FileStorageBackend, TusModule, type TusModuleOptions, TusOptionsError, TusStorageService } from 'nestjs-tus';
import { locationOf, send, TUS, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS, type Platform, startApp, tempDir, type RunningApp } from '../support/apps/tus-app.js';

const dirs: Array<{ cleanup(): Promise<void> }> = [];
const apps: RunningApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
  await Promise.all(dirs.splice(0).map((dir) => dir.cleanup()));
});

async function uploadDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir.path;
}

async function boot(platform: Platform, imports: unknown[], path = '/files', providers: unknown[] = [], controllers: unknown[] = []) {
  const app = await startApp({ imports: imports as [], providers: providers as [], controllers: controllers as [] }, path, platform);
  apps.push(app);
  return app;
}

/** Proves the module answers tus at `url`: create, then HEAD. */
async function expectTusAt(url: string): Promise<void> {
  const created = await send('POST', url, { headers: { ...TUS, 'Upload-Length': 3 } });
  expect(created.status).toBe(201);
  const head = await send('HEAD', locationOf(created, url), { headers: TUS });
  expect(head.status).toBe(200);
  expect(head.headers['upload-length']).toBe('3');
}

@Injectable()
class OptionsFactory {
  static dir = '';
  createTusOptions(): TusModuleOptions {
    return { uploadDir: OptionsFactory.dir, maxSize: 1234 };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class OptionsFactoryModule {}

describe.each(PLATFORMS)('TusModule configuration styles on %s', (platform) => {
  it('forRoot with the default path /files', async () => {
    const app = await boot(platform, [TusModule.forRoot({ uploadDir: await uploadDir() })]);
    await expectTusAt(app.url);
  });

  it('forRoot with a custom path, normalised', async () => {
    const app = await boot(platform, [TusModule.forRoot({ uploadDir: await uploadDir(), path: 'api/uploads/' })], '/api/uploads');
    await expectTusAt(app.url);
  });

  it('forRootAsync with useFactory + inject, path known up front', async () => {
    const dir = await uploadDir();
    const app = await boot(
      platform,
      [
        TusModule.forRootAsync({
          path: '/async',
          imports: [OptionsFactoryModule],
          inject: [OptionsFactory],
          useFactory: async (factory: OptionsFactory) => ({ ...factory.createTusOptions(), uploadDir: dir }),
        }),
      ],
      '/async',
    );
    await expectTusAt(app.url);
    const options = await send('OPTIONS', app.url);
    expect(options.headers['tus-max-size']).toBe('1234');
  });

  it('forRootAsync with useClass', async () => {
    OptionsFactory.dir = await uploadDir();
    const app = await boot(platform, [TusModule.forRootAsync({ useClass: OptionsFactory })]);
    await expectTusAt(app.url);
    expect((await send('OPTIONS', app.url)).headers['tus-max-size']).toBe('1234');
  });

  it('forRootAsync with useExisting', async () => {
    OptionsFactory.dir = await uploadDir();
    const app = await boot(platform, [TusModule.forRootAsync({ imports: [OptionsFactoryModule], useExisting: OptionsFactory })]);
    await expectTusAt(app.url);
    expect((await send('OPTIONS', app.url)).headers['tus-max-size']).toBe('1234');
  });

  it('isGlobal makes TusStorageService injectable in a module that does not import TusModule', async () => {
    @Controller('probe')
    class ProbeController {
      constructor(private readonly uploads: TusStorageService) {}
      @Get(':id')
      async length(@Param('id') id: string) {
        return { length: (await this.uploads.get(id)).length };
      }
    }
    @Module({ controllers: [ProbeController] })
    class FeatureModule {}

    const app = await boot(platform, [TusModule.forRoot({ uploadDir: await uploadDir(), isGlobal: true }), FeatureModule]);
    const created = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 7 } });
    const id = uploadIdOf(locationOf(created, app.url));
    const probe = await send('GET', `${app.origin}/probe/${id}`);
    expect(JSON.parse(probe.text)).toEqual({ length: 7 });
  });

  it('without isGlobal, TusStorageService is not visible outside the importing module', async () => {
    @Injectable()
    class Consumer {
      constructor(readonly uploads: TusStorageService) {}
    }
    @Module({ providers: [Consumer] })
    class FeatureModule {}
    @Module({ imports: [TusModule.forRoot({ uploadDir: await uploadDir() }), FeatureModule] })
    class AppModule {}
    await expect(NestFactory.create(AppModule, { logger: false, abortOnError: false })).rejects.toThrow(/TusStorageService/);
  });

  it('accepts a storage backend class, instantiated by the injector', async () => {
    const dir = await uploadDir();
    @Injectable()
    class MyBackend extends FileStorageBackend {
      constructor() {
        super({ directory: dir });
      }
    }
    const app = await boot(platform, [TusModule.forRoot({ storage: MyBackend })]);
    await expectTusAt(app.url);
  });

  it('advertises only the extensions asked for', async () => {
    const app = await boot(platform, [TusModule.forRoot({ uploadDir: await uploadDir(), extensions: ['creation', 'checksum'] })]);
    const options = await send('OPTIONS', app.url);
    expect(options.headers['tus-extension']).toBe('creation,checksum');
    const created = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 1 } });
    const deleted = await send('DELETE', locationOf(created, app.url), { headers: TUS });
    expect(deleted.status).toBe(405); // termination is off
  });
});

describe('TusModule option validation at start-up', () => {
  it.each<[string, TusModuleOptions, RegExp]>([
    ['a negative maxSize', { maxSize: -1 }, /maxSize/],
    ['a fractional expiration', { expirationSeconds: 1.5 }, /expirationSeconds/],
    ['an unknown extension', { extensions: ['creation', 'teleport' as never] }, /unknown extension "teleport"/],
    ['a storage that is no backend', { storage: {} as never }, /storage/],
    ['a non-function generateId', { generateId: 'abc' as never }, /generateId/],
    ['a non-boolean relativeLocation', { relativeLocation: 'yes' as never }, /relativeLocation/],
  ])('fails with a clear TusOptionsError for %s', async (_case, options, message) => {
    @Module({ imports: [TusModule.forRoot({ uploadDir: await uploadDir(), ...options })] })
    class AppModule {}
    const failure = NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await expect(failure).rejects.toThrow(TusOptionsError);
    await expect(failure).rejects.toThrow(message);
  });

  it('fails on a misspelled option in a forRootAsync factory, naming the option meant', async () => {
    const dir = await uploadDir();
    @Module({
      imports: [
        // A factory's result is not checked for excess properties by tsc: only the boot can tell.
        TusModule.forRootAsync({ useFactory: () => ({ uploadDir: dir, expirationSecond: 60, maxsize: 5 }) as TusModuleOptions }),
      ],
    })
    class AppModule {}
    const failure = NestFactory.create(AppModule, { logger: false, abortOnError: false });
    await expect(failure).rejects.toThrow(TusOptionsError);
    await expect(failure).rejects.toThrow(
      'Invalid TusModule options:\n' +
        ' - unknown option expirationSecond: did you mean expirationSeconds?\n' +
        ' - unknown option maxsize: did you mean maxSize?',
    );
  });

  it('refuses a path that cannot be a route when the module is defined', () => {
    expect(() => TusModule.forRoot({ path: '/files/:id?' })).toThrow(/must be a URL path/);
  });
});

describe('TusModule without EventEmitterModule', () => {
  /** A logger that keeps every warning with its context. */
  class RecordingLogger implements LoggerService {
    readonly warnings: Array<{ message: unknown; context: unknown }> = [];
    log(): void {}
    error(): void {}
    warn(message: unknown, context?: unknown): void {
      this.warnings.push({ message, context });
    }
  }

  async function warningsOfBoot(imports: unknown[]) {
    @Module({ imports: imports as [] })
    class AppModule {}
    const logger = new RecordingLogger();
    const app = await NestFactory.create(AppModule, { logger });
    await app.init();
    await app.close();
    return logger.warnings;
  }

  it('boots, and warns once at start-up that no event will be emitted', async () => {
    const warnings = await warningsOfBoot([TusModule.forRoot({ uploadDir: await uploadDir() })]);
    expect(warnings).toEqual([{ message: expect.stringMatching(/^EventEmitterModule is not imported: no tus lifecycle event/), context: 'TusModule' }]);
    expect(warnings[0]!.message).toMatch(/EventEmitterModule\.forRoot\(\)/);
  });

  it('does not warn when the app imports it', async () => {
    expect(await warningsOfBoot([EventEmitterModule.forRoot(), TusModule.forRoot({ uploadDir: await uploadDir() })])).toEqual([]);
  });
});
