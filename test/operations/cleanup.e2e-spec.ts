import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { TusEvent, type TusPostEvent } from 'nestjs-tus';
import { eventually } from '../support/eventually.js';
import { createUpload, patchHeaders, send, TUS, uploadIdOf } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { ManualClock, startTusApp, type RunningApp } from '../support/apps/tus-app.js';

@Injectable()
class Terminations {
  static ids: string[] = [];
  @OnEvent(TusEvent.POST_TERMINATE)
  record({ upload }: TusPostEvent) {
    Terminations.ids.push(upload.id);
  }
}

describe.each(TARGETS)('cleanupIntervalSeconds on the $name', ({ backend, platform }) => {
  const clock = new ManualClock();
  let app: RunningApp;

  beforeAll(async () => {
    app = await startTusApp({ expirationSeconds: 60, cleanupIntervalSeconds: 1 }, { backend, platform, clock, providers: [Terminations] });
  });
  afterAll(() => app.close());

  it('removes expired unfinished uploads on its own, with tus.post-terminate, and never a completed one', async () => {
    Terminations.ids = [];
    const expiring = await createUpload(app.url, { 'Upload-Length': 10 });
    const completed = await createUpload(app.url, { 'Upload-Length': 2 });
    expect((await send('PATCH', completed, { headers: patchHeaders(0), body: 'ok' })).status).toBe(204);
    clock.current += 61_000;
    const fresh = await createUpload(app.url, { 'Upload-Length': 10 });

    const id = uploadIdOf(expiring);
    await eventually(async () => Terminations.ids.includes(id), 5_000, 'tus.post-terminate of the expired upload');
    expect(Terminations.ids).toEqual([id]);
    expect((await send('HEAD', expiring, { headers: TUS })).status).toBe(404);
    expect((await send('HEAD', completed, { headers: TUS })).status).toBe(200);
    expect((await send('HEAD', fresh, { headers: TUS })).status).toBe(200);
  });
});
