import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { INestApplication } from '@nestjs/common';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { readdir } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { InvalidRequestError, TusEvent, TusStorageService, UploadNotFoundError } from 'nestjs-tus';
import { createUpload, patchHeaders, send, TUS, uploadIdOf } from '../support/http/requests.js';
import { ManualClock, PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';

describe.each(PLATFORMS)('TusStorageService on %s', (platform) => {
  const clock = new ManualClock();
  let app: INestApplication;
  let service: TusStorageService;
  let url: string;
  let running: TusApp;
  const terminated: string[] = [];

  beforeAll(async () => {
    running = await startTusApp({ expirationSeconds: 60 }, { clock, platform });
    ({ app, url } = running);
    service = app.get(TusStorageService);
    app.get(EventEmitter2).on(TusEvent.POST_TERMINATE, ({ upload }) => terminated.push(upload.id));
  });
  afterAll(() => running.close());
  beforeEach(() => {
    terminated.length = 0;
  });

  it('get() returns the UploadInfo; an unknown or malformed id is UploadNotFoundError', async () => {
    const uploadUrl = await createUpload(url, { 'Upload-Length': 4, 'Upload-Metadata': 'k dg==' });
    const info = await service.get(uploadIdOf(uploadUrl));
    expect(info).toMatchObject({ id: uploadIdOf(uploadUrl), offset: 0, length: 4, metadata: { k: 'v' }, completedAt: null });
    await expect(service.get('nope')).rejects.toBeInstanceOf(UploadNotFoundError);
    await expect(service.get('../etc')).rejects.toBeInstanceOf(UploadNotFoundError);
  });

  it('createReadStream() streams a completed upload, whole or a range; an unfinished one is refused', async () => {
    const uploadUrl = await createUpload(url, { 'Upload-Length': 10 });
    await expect(service.createReadStream(uploadIdOf(uploadUrl))).rejects.toBeInstanceOf(InvalidRequestError);
    await send('PATCH', uploadUrl, { headers: patchHeaders(0), body: '0123456789' });
    expect((await buffer(await service.createReadStream(uploadIdOf(uploadUrl)))).toString()).toBe('0123456789');
    expect((await buffer(await service.createReadStream(uploadIdOf(uploadUrl), { start: 2, end: 4 }))).toString()).toBe('234');
  });

  it('delete() terminates an upload with the terminate events', async () => {
    const uploadUrl = await createUpload(url, { 'Upload-Length': 10 });
    await service.delete(uploadIdOf(uploadUrl));
    expect((await send('HEAD', uploadUrl, { headers: TUS })).status).toBe(404);
    expect(terminated).toEqual([uploadIdOf(uploadUrl)]);
  });

  it('listExpired() and deleteExpired() find and remove only unfinished uploads past their expiry', async () => {
    const stale = await createUpload(url, { 'Upload-Length': 10 });
    const done = await createUpload(url, { 'Upload-Length': 2 });
    await send('PATCH', done, { headers: patchHeaders(0), body: 'ok' });
    clock.current += 30_000;
    const fresh = await createUpload(url, { 'Upload-Length': 10 });
    clock.current += 31_000; // `stale` is 61 s old, `fresh` 31 s: only `stale` expired

    const expired = (await service.listExpired()).map((upload) => upload.id);
    expect(expired).toContain(uploadIdOf(stale));
    expect(expired).not.toContain(uploadIdOf(fresh));
    expect(expired).not.toContain(uploadIdOf(done));
    expect((await send('HEAD', stale, { headers: TUS })).status).toBe(410);

    const removed = (await service.deleteExpired()).map((upload) => upload.id);
    expect(removed).toEqual(expired);
    expect(terminated).toEqual(expect.arrayContaining(removed));
    expect((await send('HEAD', stale, { headers: TUS })).status).toBe(404);
    expect((await send('HEAD', fresh, { headers: TUS })).status).toBe(200);
    expect((await send('HEAD', done, { headers: TUS })).status).toBe(200);
    const files = await readdir(running.uploadDir);
    expect(files.some((name) => name.startsWith(uploadIdOf(stale)))).toBe(false);
  });

  it('list() pages through every upload in id order, filtered by status; a bad limit is refused', async () => {
    const done = await createUpload(url, { 'Upload-Length': 1 });
    await send('PATCH', done, { headers: patchHeaders(0), body: 'x' });
    for (let i = 0; i < 4; i++) await createUpload(url, { 'Upload-Length': 10 });
    const everything: string[] = [];
    let after: string | null = null;
    let pages = 0;
    do {
      const page = await service.list({ limit: 2, after });
      expect(page.uploads.length).toBeLessThanOrEqual(2);
      everything.push(...page.uploads.map((upload) => upload.id));
      after = page.next;
      pages++;
    } while (after !== null);
    expect(everything).toEqual([...everything].sort());
    expect(new Set(everything).size).toBe(everything.length);
    expect(pages).toBeGreaterThanOrEqual(3);
    const all = (await service.list({ limit: 1000 })).uploads.map((upload) => upload.id);
    expect(everything).toEqual(all);
    const completed = (await service.list({ status: 'completed', limit: 1000 })).uploads;
    expect(completed.map((upload) => upload.id)).toContain(uploadIdOf(done));
    expect(completed.every((upload) => upload.completedAt !== null)).toBe(true);
    const unfinished = (await service.list({ status: 'unfinished', limit: 1000 })).uploads;
    expect(unfinished.length + completed.length).toBe(all.length);
    await expect(service.list({ limit: 0 })).rejects.toBeInstanceOf(RangeError);
  });
});
