import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { BadRequestException, Injectable } from '@nestjs/common';
import { EventEmitter2, OnEvent } from '@nestjs/event-emitter';
import { execFile } from 'node:child_process';
import { appendFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { TusEvent, type TusPostEvent, type TusPreEvent } from 'nestjs-tus';
import { PROCESS_HOST } from '../../libs/tus/src/storage/process-identity.js';
import { createUpload, head, patchHeaders, send, uploadIdOf } from '../support/http/requests.js';
import { PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';

const run = promisify(execFile);

/** A pre-finish listener that vetoes uploads whose metadata says so. */
@Injectable()
class FinishRules {
  @OnEvent(TusEvent.PRE_FINISH, { suppressErrors: false })
  check({ upload }: TusPreEvent): void {
    if (upload.metadata.veto === 'yes') throw new BadRequestException('vetoed by the app');
  }
}

/**
 * An upload whose last bytes reached the disk in a PATCH that was killed (the server crashed before
 * recording them) is full but unfinished. It is finished through the normal path when it is next
 * touched: `pre-finish` may veto, `post-finish` fires once. (Another process sharing the folder
 * died holding the lock: no restart of this one is needed.)
 */
describe.each(PLATFORMS)('an upload a crash left full, on %s', (platform) => {
  let app: TusApp;
  const finished: string[] = [];

  beforeAll(async () => {
    app = await startTusApp({}, { platform, providers: [FinishRules] });
    app.app.get(EventEmitter2).on(TusEvent.POST_FINISH, (event: TusPostEvent) => finished.push(event.upload.id));
  });
  afterAll(async () => {
    await app?.close();
  });

  /** An upload of 10 bytes with 4 recorded, whose other 6 a writer that then died put on disk. */
  async function leftFullByACrash(metadata?: string): Promise<string> {
    const url = await createUpload(app.url, { 'Upload-Length': 10, ...(metadata ? { 'Upload-Metadata': metadata } : {}) });
    expect((await send('PATCH', url, { headers: patchHeaders(0), body: 'abcd' })).status).toBe(204);
    const id = uploadIdOf(url);
    await appendFile(join(app.uploadDir, id), 'efghij');
    const dead = Number((await run('sh', ['-c', 'echo $$'])).stdout.trim());
    await writeFile(join(app.uploadDir, `${id}.lock`), JSON.stringify({ pid: dead, host: PROCESS_HOST, token: 'gone' }));
    return url;
  }

  it('its next HEAD finishes it: offset 10, post-finish once, the bytes kept', async () => {
    const url = await leftFullByACrash();
    const state = await head(url);
    expect(state.status).toBe(200);
    expect(state.headers['upload-offset']).toBe('10');
    expect((await head(url)).headers['upload-offset']).toBe('10');
    expect(finished.filter((id) => id === uploadIdOf(url))).toHaveLength(1);
    const download = await send('GET', url);
    expect(download.status).toBe(200);
    expect(download.text).toBe('abcdefghij');
  });

  it('a pre-finish veto answers that HEAD with its status, and the upload stays unfinished with its bytes', async () => {
    const url = await leftFullByACrash(`veto ${Buffer.from('yes').toString('base64')}`);
    const state = await head(url);
    // A HEAD answer has no body to carry the reason: the status says it.
    expect(state.status).toBe(400);
    expect(finished).not.toContain(uploadIdOf(url));
    expect((await stat(join(app.uploadDir, uploadIdOf(url)))).size).toBe(10);
    expect((await send('GET', url)).status).toBe(404);
  });
});
