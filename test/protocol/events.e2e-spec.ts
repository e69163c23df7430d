import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { ForbiddenException, Injectable, UnprocessableEntityException } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { readdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { TusEvent, type TusPostEvent, type TusPreEvent } from 'nestjs-tus';
import { piecesOf } from '../support/bytes.js';
import { b64, createUpload, patchHeaders, send, slowBody, TUS, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';

interface Recorded {
  name: string;
  payload: TusPreEvent | TusPostEvent;
}

/** Records every event; vetoes the steps a test asks it to. */
@Injectable()
class Recorder {
  static events: Recorded[] = [];
  /** Event name -> the exception its listener throws. */
  static veto = new Map<string, () => Error>();

  private record(name: string, payload: TusPreEvent | TusPostEvent): void {
    Recorder.events.push({ name, payload });
    const veto = Recorder.veto.get(name);
    if (veto) throw veto();
  }

  @OnEvent(TusEvent.PRE_CREATE, { suppressErrors: false })
  preCreate(payload: TusPreEvent) {
    this.record(TusEvent.PRE_CREATE, payload);
  }
  @OnEvent(TusEvent.POST_CREATE)
  postCreate(payload: TusPostEvent) {
    this.record(TusEvent.POST_CREATE, payload);
  }
  @OnEvent(TusEvent.POST_RECEIVE)
  postReceive(payload: TusPostEvent) {
    this.record(TusEvent.POST_RECEIVE, payload);
  }
  @OnEvent(TusEvent.PRE_FINISH, { suppressErrors: false })
  async preFinish(payload: TusPreEvent) {
    await sleep(5); // an async listener is awaited too
    this.record(TusEvent.PRE_FINISH, payload);
  }
  @OnEvent(TusEvent.POST_FINISH)
  postFinish(payload: TusPostEvent) {
    this.record(TusEvent.POST_FINISH, payload);
  }
  @OnEvent(TusEvent.PRE_TERMINATE, { suppressErrors: false })
  preTerminate(payload: TusPreEvent) {
    this.record(TusEvent.PRE_TERMINATE, payload);
  }
  @OnEvent(TusEvent.POST_TERMINATE)
  postTerminate(payload: TusPostEvent) {
    this.record(TusEvent.POST_TERMINATE, payload);
  }
}

const names = () => Recorder.events.map((event) => event.name);
const settle = () => sleep(20); // post- events are emitted after the response is written

describe.each(PLATFORMS)('lifecycle events and hooks on %s', (platform) => {
  let app: TusApp;

  beforeAll(async () => {
    app = await startTusApp(
      {
        postReceiveIntervalMs: 400,
        metadataOverride: async (request, metadata) => ({ ...metadata, owner: String(request.headers['x-user'] ?? 'anonymous') }),
      },
      { providers: [Recorder], platform },
    );
  });
  afterAll(() => app.close());
  beforeEach(() => {
    Recorder.events = [];
    Recorder.veto.clear();
  });

  it('emits create, receive and finish events in order, with the upload and (for pre-) the request', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 6, 'Upload-Metadata': `filename ${b64('a.txt')}` });
    await send('PATCH', url, { headers: patchHeaders(0), body: 'abc' });
    await send('PATCH', url, { headers: patchHeaders(3), body: 'def' });
    await settle();
    expect(names()).toEqual([
      TusEvent.PRE_CREATE,
      TusEvent.POST_CREATE,
      TusEvent.POST_RECEIVE,
      TusEvent.PRE_FINISH,
      TusEvent.POST_RECEIVE,
      TusEvent.POST_FINISH,
    ]);
    const [preCreate, postCreate, firstReceive, preFinish, , postFinish] = Recorder.events as [Recorded, Recorded, Recorded, Recorded, Recorded, Recorded];
    expect((preCreate.payload as TusPreEvent).request?.headers['upload-length']).toBe('6');
    expect(preCreate.payload.upload).toMatchObject({ offset: 0, length: 6, metadata: { filename: 'a.txt' } });
    expect(postCreate.payload.upload.storage).toMatchObject({ type: 'file' });
    expect(firstReceive.payload.upload.offset).toBe(3);
    expect(preFinish.payload.upload).toMatchObject({ offset: 6, completedAt: null });
    expect((preFinish.payload as TusPreEvent).request?.method).toBe('PATCH');
    expect(postFinish.payload.upload.completedAt).toBeInstanceOf(Date);
    expect(postFinish.payload.upload.id).toBe(uploadIdOf(url));
  });

  it('a pre-create veto answers the listener status and creates nothing', async () => {
    Recorder.veto.set(TusEvent.PRE_CREATE, () => new ForbiddenException('tus.pre-create vetoed by the app'));
    const before = await readdir(app.uploadDir);
    const response = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 5 } });
    expect(response.status).toBe(403);
    expect(response.text).toBe('tus.pre-create vetoed by the app\n');
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    expect(await readdir(app.uploadDir)).toEqual(before);
    await settle();
    expect(names()).toEqual([TusEvent.PRE_CREATE]);
  });

  it('a pre-finish veto rejects the last chunk: the offset stays where it was', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 4 });
    Recorder.veto.set(TusEvent.PRE_FINISH, () => new ForbiddenException('vetoed'));
    const response = await send('PATCH', url, { headers: patchHeaders(0), body: 'data' });
    expect(response.status).toBe(403);
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers['upload-offset']).toBe('0');
    await settle();
    expect(names()).not.toContain(TusEvent.POST_FINISH);
  });

  it('an HttpException of another status passes through with its message (422)', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 2 });
    Recorder.veto.set(TusEvent.PRE_FINISH, () => new UnprocessableEntityException('file type not allowed'));
    const response = await send('PATCH', url, { headers: patchHeaders(0), body: 'xy' });
    expect(response.status).toBe(422);
    expect(response.text).toBe('file type not allowed\n');
    expect((await send('HEAD', url, { headers: TUS })).headers['upload-offset']).toBe('0');
  });

  it('a listener that throws a plain Error answers 500 without internals, and changes nothing', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 2 });
    Recorder.veto.set(TusEvent.PRE_FINISH, () => new Error('database password is hunter2'));
    const response = await send('PATCH', url, { headers: patchHeaders(0), body: 'xy' });
    expect(response.status).toBe(500);
    expect(response.text).toBe('Internal server error\n');
    expect((await send('HEAD', url, { headers: TUS })).headers['upload-offset']).toBe('0');
  });

  it('a pre-terminate veto keeps the upload', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 4 });
    Recorder.veto.set(TusEvent.PRE_TERMINATE, () => new ForbiddenException('vetoed'));
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(403);
    expect((await send('HEAD', url, { headers: TUS })).status).toBe(200);
    Recorder.veto.clear();
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(204);
    await settle();
    expect(names().slice(-2)).toEqual([TusEvent.PRE_TERMINATE, TusEvent.POST_TERMINATE]);
  });

  it('Upload-Length: 0 completes at creation and fires the finish events then', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 0 });
    await settle();
    expect(names()).toEqual([TusEvent.PRE_CREATE, TusEvent.POST_CREATE, TusEvent.PRE_FINISH, TusEvent.POST_FINISH]);
    expect((await send('HEAD', url, { headers: TUS })).headers['upload-offset']).toBe('0');
  });

  it('throttles tus.post-receive while bytes flow, plus one at the end of the request', async () => {
    const size = 30 * 64 * 1024;
    const url = await createUpload(app.url, { 'Upload-Length': size });
    // 1.5 s in all, with a 400 ms interval: 4 throttled + 1 final at most
    const body = slowBody(piecesOf(Buffer.alloc(size, 7), 64 * 1024), 50);
    const response = await send('PATCH', url, { headers: { ...patchHeaders(0), 'Content-Length': size }, body });
    expect(response.status).toBe(204);
    await settle();
    const receives = Recorder.events.filter((event) => event.name === TusEvent.POST_RECEIVE);
    expect(receives.length).toBeGreaterThanOrEqual(3);
    expect(receives.length).toBeLessThanOrEqual(6);
    expect(receives.at(-1)!.payload.upload.offset).toBe(size);
    const offsets = receives.map((event) => event.payload.upload.offset);
    expect([...offsets].sort((x, y) => x - y)).toEqual(offsets);
  });

  it('metadataOverride rewrites metadata before creation, and HEAD echoes the result', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 1, 'Upload-Metadata': `filename ${b64('x.png')}`, 'X-User': 'ada' });
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers['upload-metadata']).toBe(`filename ${b64('x.png')},owner ${b64('ada')}`);
    await settle();
    expect(Recorder.events[0]!.payload.upload.metadata).toEqual({ filename: 'x.png', owner: 'ada' });
  });
});
