import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type INestApplication } from '@nestjs/common';
import { EventEmitterModule, OnEvent } from '@nestjs/event-emitter';
import { Test } from '@nestjs/testing';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TusClock, TusEvent, TusModule, type TusPostEvent } from 'nestjs-tus';
import { createUpload, patchHeaders, send, TUS } from './support/http.js';
import { BACKENDS } from './support/backends.js';
import { tempDir } from './support/tus-app.js';

class ManualClock extends TusClock {
  current = Date.now();
  now(): Date {
    return new Date(this.current);
  }
}

@Injectable()
class Terminations {
  static ids: string[] = [];
  @OnEvent(TusEvent.POST_TERMINATE)
  record({ upload }: TusPostEvent) {
    Terminations.ids.push(upload.id);
  }
}

describe.each(BACKENDS)('cleanupIntervalSeconds on the $name backend', (backend) => {
  const clock = new ManualClock();
  let app: INestApplication;
  let url: string;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    const dir = await tempDir();
    const storage = await backend.create();
    const moduleRef = await Test.createTestingModule({
      imports: [
        EventEmitterModule.forRoot(),
        TusModule.forRoot({ uploadDir: dir.path, ...storage.options, expirationSeconds: 60, cleanupIntervalSeconds: 1 }),
      ],
      providers: [Terminations],
    })
      .overrideProvider(TusClock)
      .useValue(clock)
      .compile();
    app = moduleRef.createNestApplication({ logger: ['error'] });
    await app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}/files`;
    cleanup = async () => {
      await storage.cleanup();
      await dir.cleanup();
    };
  });
  afterAll(async () => {
    await app.close();
    await cleanup();
  });

  it('removes expired unfinished uploads on its own, with tus.post-terminate, and never a completed one', async () => {
    Terminations.ids = [];
    const expiring = await createUpload(url, { 'Upload-Length': 10 });
    const completed = await createUpload(url, { 'Upload-Length': 2 });
    expect((await send('PATCH', completed, { headers: patchHeaders(0), body: 'ok' })).status).toBe(204);
    clock.current += 61_000;
    const fresh = await createUpload(url, { 'Upload-Length': 10 });

    const id = expiring.slice(expiring.lastIndexOf('/') + 1);
    for (let waited = 0; waited < 5_000 && !Terminations.ids.includes(id); waited += 100) await sleep(100);
    expect(Terminations.ids).toEqual([id]);
    expect((await send('HEAD', expiring, { headers: TUS })).status).toBe(404);
    expect((await send('HEAD', completed, { headers: TUS })).status).toBe(200);
    expect((await send('HEAD', fresh, { headers: TUS })).status).toBe(200);
  });
});
