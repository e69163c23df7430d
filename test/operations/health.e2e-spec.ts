import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { Controller, Get, Module, type DynamicModule } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { S3StorageBackend } from 'nestjs-tus/s3';
import { TusHealthIndicator } from 'nestjs-tus/terminus';
import { createTestBucket, createTestS3Client } from '../support/servers/s3-server.js';
import { startPrivateRgw, type PrivateRgw } from '../support/servers/private-rgw.js';
import { mountTmpfs, type SmallFileSystem } from '../support/storage/tmpfs.js';
import { PLATFORMS, startTusApp, type RunningApp } from '../support/apps/tus-app.js';

const run = promisify(execFile);

/** The README's health endpoint: terminus, with the tus storage indicator. */
function healthRoute(): DynamicModule {
  @Controller('health')
  class HealthController {
    constructor(
      private readonly health: HealthCheckService,
      private readonly tus: TusHealthIndicator,
    ) {}

    @Get()
    @HealthCheck()
    check() {
      return this.health.check([() => this.tus.isHealthy('uploads', { timeoutMs: 10_000 })]);
    }
  }
  @Module({ imports: [TerminusModule.forRoot({ logger: false })], controllers: [HealthController], providers: [TusHealthIndicator] })
  class HealthModule {}
  return { module: HealthModule };
}

async function health(app: RunningApp): Promise<{ status: number; body: { status: string; details: Record<string, Record<string, unknown>> } }> {
  const response = await fetch(`${app.origin}/health`);
  return { status: response.status, body: (await response.json()) as never };
}

describe.each(PLATFORMS)('the storage health check, file backend on %s', (platform) => {
  let fs: SmallFileSystem;
  let app: RunningApp;

  beforeAll(async () => {
    fs = await mountTmpfs(1024 * 1024);
    app = await startTusApp({ uploadDir: fs.path, isGlobal: true }, { platform, imports: [healthRoute()] });
  });
  afterAll(async () => {
    await app?.close();
    await run('mount', ['-o', 'remount,rw', fs.path]).catch(() => undefined);
    await fs?.unmount();
  });

  it('is up while the folder is writable, down while it is not, and up again', async () => {
    const up = await health(app);
    expect(up.status).toBe(200);
    expect(up.body.details.uploads).toEqual({ status: 'up', backend: 'file' });

    await run('mount', ['-o', 'remount,ro', fs.path]);
    const down = await health(app);
    expect(down.status).toBe(503);
    expect(down.body.status).toBe('error');
    expect(down.body.details.uploads).toMatchObject({ status: 'down', backend: 'file', message: expect.stringMatching(/EROFS/) });

    await run('mount', ['-o', 'remount,rw', fs.path]);
    expect((await health(app)).status).toBe(200);
  });
});

describe('the storage health check, S3 backend (a private RGW, its gateway killed and started again)', () => {
  let rgw: PrivateRgw;
  let client: S3Client;
  const apps: RunningApp[] = [];

  beforeAll(async () => {
    rgw = await startPrivateRgw();
    client = createTestS3Client(rgw, { requestHandler: { connectionTimeout: 2_000, socketTimeout: 5_000 } });
    const { bucket } = await createTestBucket(client, 'health');
    for (const platform of PLATFORMS) {
      apps.push(await startTusApp({ storage: new S3StorageBackend({ client, bucket, keyPrefix: 'uploads/' }), isGlobal: true }, { platform, imports: [healthRoute()] }));
    }
  }, 120_000);
  afterAll(async () => {
    // No bucket clean-up: the bucket goes with the private RGW's folder.
    for (const app of apps) await app.close();
    client?.destroy();
    await rgw?.stop();
  }, 60_000);

  it('is up while RGW answers, down while it is stopped, and up again once it is back (Express and Fastify)', async () => {
    for (const app of apps) {
      const up = await health(app);
      expect(up.status).toBe(200);
      expect(up.body.details.uploads).toEqual({ status: 'up', backend: 's3' });
    }

    await rgw.killGateway();
    for (const app of apps) {
      const down = await health(app);
      expect(down.status).toBe(503);
      expect(down.body.details.uploads).toMatchObject({ status: 'down', backend: 's3', message: expect.stringMatching(/^Storage unavailable/) });
    }

    await rgw.startGateway();
    for (const app of apps) expect((await health(app)).status).toBe(200);
  }, 120_000);
});
