import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { TusModuleOptions } from 'nestjs-tus';
import { type Target, TARGETS } from '../support/apps/targets.js';
import { createUpload, head, locationOf, OFFSET_OCTET_STREAM, offsetOf, patchHeaders, send, sendPatch, TUS } from '../support/http/requests.js';
import { storedBytesOf } from '../support/storage/stored.js';
import { ManualClock, startTusApp } from '../support/apps/tus-app.js';

/**
 * The tus module on a real port, on the target's backend and platform, with `TusClock` replaced through Nest's testing
 * module. `downloadUnfinished`: the tests read an unfinished upload's bytes through GET.
 */
async function startWithClock(options: TusModuleOptions, { backend, platform }: Target) {
  const clock = new ManualClock(Date.parse('2030-01-15T10:00:00Z'));
  return { ...(await startTusApp({ downloadUnfinished: true, ...options }, { backend, platform, clock })), clock };
}

const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const LIFETIME = 60;

/** Checklist 29-30: the expiration extension. */
describe.each(TARGETS)('expiration on the $name', (target) => {
  let server: Awaited<ReturnType<typeof startWithClock>>;
  let never: Awaited<ReturnType<typeof startWithClock>>;

  beforeAll(async () => {
    [server, never] = await Promise.all([
      startWithClock({ expirationSeconds: LIFETIME }, target),
      startWithClock({ expirationSeconds: null }, target),
    ]);
  });
  afterAll(async () => {
    await Promise.all([server?.close(), never?.close()]);
  });

  const expiryFrom = (clock: ManualClock) => new Date(clock.now().getTime() + LIFETIME * 1000).toUTCString();
  const bytesOf = (upload: string, state: { expired?: boolean } = {}) => storedBytesOf(server.app, upload, state);

  describe('29: Upload-Expires, an IMF-fixdate, on POST and PATCH', () => {
    it('29: POST carries Upload-Expires, now + the lifetime', async () => {
      const response = await send('POST', server.url, { headers: { ...TUS, 'Upload-Length': 10 } });
      expect(response.status).toBe(201);
      expect(response.headers['upload-expires']).toMatch(IMF_FIXDATE);
      expect(response.headers['upload-expires']).toBe(expiryFrom(server.clock));
    });

    it('29: creation-with-upload carries Upload-Expires', async () => {
      const response = await send('POST', server.url, {
        headers: { ...TUS, 'Upload-Length': 10, 'Content-Type': OFFSET_OCTET_STREAM },
        body: 'abc',
      });
      expect(response.status).toBe(201);
      expect(response.headers['upload-expires']).toMatch(IMF_FIXDATE);
    });

    it('29: each PATCH renews it, and HEAD reports it', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 10 });
      server.clock.advance(30);
      const first = await sendPatch(upload, 0, 'abc');
      expect(first.status).toBe(204);
      expect(first.headers['upload-expires']).toMatch(IMF_FIXDATE);
      expect(first.headers['upload-expires']).toBe(expiryFrom(server.clock));
      expect((await head(upload)).headers['upload-expires']).toBe(first.headers['upload-expires']);

      server.clock.advance(45);
      const second = await sendPatch(upload, 3, 'def');
      expect(second.status).toBe(204);
      expect(second.headers['upload-expires']).toBe(expiryFrom(server.clock));
      expect(Date.parse(String(second.headers['upload-expires']))).toBeGreaterThan(Date.parse(String(first.headers['upload-expires'])));
    });

    it('29: a renewed upload outlives its first expiry', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 10 });
      server.clock.advance(LIFETIME - 10);
      expect((await sendPatch(upload, 0, 'abc')).status).toBe(204);
      server.clock.advance(LIFETIME - 10);
      expect((await head(upload)).status).toBe(200);
      expect((await sendPatch(upload, 3, 'def')).status).toBe(204);
      expect(await offsetOf(upload)).toBe(6);
    });

    it('29: no Upload-Expires once the upload is complete (it can no longer expire)', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 3 });
      const response = await sendPatch(upload, 0, 'abc');
      expect(response.status).toBe(204);
      expect(response.headers['upload-expires']).toBeUndefined();
      expect((await head(upload)).headers['upload-expires']).toBeUndefined();
    });
  });

  describe('30: an expired unfinished upload is 410; completed uploads do not expire', () => {
    it('30: alive until its expiry, 410 on HEAD, PATCH and DELETE after it', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 10 });
      expect((await sendPatch(upload, 0, 'abc')).status).toBe(204);
      server.clock.advance(LIFETIME - 1);
      expect((await head(upload)).status).toBe(200);

      server.clock.advance(2);
      const state = await head(upload);
      expect(state.status).toBe(410);
      expect(state.headers['upload-offset']).toBeUndefined();
      expect(state.headers['tus-resumable']).toBe('1.0.0');

      expect((await sendPatch(upload, 3, 'def')).status).toBe(410);
      expect((await bytesOf(upload, { expired: true })).toString()).toBe('abc');

      const deleted = await send('DELETE', upload, { headers: { ...TUS } });
      expect(deleted.status).toBe(410);
      expect([404, 410]).toContain((await head(upload)).status);
    });

    it('30: a POST overridden to PATCH on an expired upload is 410 too', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 10 });
      server.clock.advance(LIFETIME + 1);
      const response = await send('POST', upload, { headers: { ...patchHeaders(0), 'X-HTTP-Method-Override': 'PATCH' }, body: 'abc' });
      expect(response.status).toBe(410);
      expect((await bytesOf(upload, { expired: true })).length).toBe(0);
    });

    it('30: a completed upload never expires', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 3 });
      expect((await sendPatch(upload, 0, 'abc')).status).toBe(204);
      server.clock.advance(365 * 24 * 3600);
      const state = await head(upload);
      expect(state.status).toBe(200);
      expect(state.headers['upload-offset']).toBe('3');
      expect(state.headers['upload-expires']).toBeUndefined();
      expect((await bytesOf(upload)).toString()).toBe('abc');
    });

    it('30: an empty upload, complete at creation, never expires', async () => {
      const upload = await createUpload(server.url, { 'Upload-Length': 0 });
      server.clock.advance(365 * 24 * 3600);
      expect((await head(upload)).status).toBe(200);
    });

    it('30: a final concatenated upload never expires', async () => {
      const partial = await createUpload(server.url, { 'Upload-Length': 3, 'Upload-Concat': 'partial' });
      expect((await sendPatch(partial, 0, 'abc')).status).toBe(204);
      const final = await createUpload(server.url, { 'Upload-Concat': `final;${partial}` });
      server.clock.advance(365 * 24 * 3600);
      const state = await head(final);
      expect(state.status).toBe(200);
      expect(state.headers['upload-offset']).toBe('3');
    });

    it('30: an expired partial cannot be concatenated', async () => {
      const partial = await createUpload(server.url, { 'Upload-Length': 3, 'Upload-Concat': 'partial' });
      expect((await sendPatch(partial, 0, 'ab')).status).toBe(204);
      server.clock.advance(LIFETIME + 1);
      const response = await send('POST', server.url, { headers: { ...TUS, 'Upload-Concat': `final;${partial}` } });
      expect([400, 404, 410]).toContain(response.status);
      expect(response.headers.location).toBeUndefined();
    });
  });

  describe('expirationSeconds: null', () => {
    it("29: 'expiration' is not in Tus-Extension", async () => {
      const response = await send('OPTIONS', never.url);
      expect(String(response.headers['tus-extension']).split(',')).not.toContain('expiration');
      expect(String((await send('OPTIONS', server.url)).headers['tus-extension']).split(',')).toContain('expiration');
    });

    it('29: no Upload-Expires on POST, PATCH or HEAD', async () => {
      const created = await send('POST', never.url, { headers: { ...TUS, 'Upload-Length': 10 } });
      expect(created.status).toBe(201);
      expect(created.headers['upload-expires']).toBeUndefined();
      const upload = locationOf(created, never.url);
      const patched = await sendPatch(upload, 0, 'abc');
      expect(patched.status).toBe(204);
      expect(patched.headers['upload-expires']).toBeUndefined();
      expect((await head(upload)).headers['upload-expires']).toBeUndefined();
    });

    it('30: an unfinished upload stays resumable for ever', async () => {
      const upload = await createUpload(never.url, { 'Upload-Length': 10 });
      expect((await sendPatch(upload, 0, 'abc')).status).toBe(204);
      never.clock.advance(10 * 365 * 24 * 3600);
      expect((await head(upload)).status).toBe(200);
      expect((await sendPatch(upload, 3, 'def')).status).toBe(204);
      expect(await offsetOf(upload)).toBe(6);
    });
  });
});
