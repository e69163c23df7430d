import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CanActivate, type ExecutionContext, HttpException, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { TusIntent, UploadInfo } from 'nestjs-tus';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../support/eventually.js';
import { startHeldPatch } from '../support/http/held-patch.js';
import { createUpload, locationOf, patchHeaders, send, TUS } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp, PLATFORMS } from '../support/apps/tus-app.js';

const user = (request: IncomingMessage) => request.headers['x-user'] as string | undefined;

/** Uploads belong to the user who created them (metadata `owner`, set by metadataOverride). */
function ownerOnly(request: IncomingMessage, intent: TusIntent, upload: UploadInfo): boolean {
  if (user(request) === 'broke') throw new HttpException('Quota exceeded', 402);
  if (intent === 'create') return user(request) !== undefined;
  return upload.metadata.owner === user(request);
}

describe.each(TARGETS)('authorize option on the $name', ({ backend, platform }) => {
  let app: RunningApp;
  const as = (name: string) => ({ ...TUS, 'X-User': name });

  beforeAll(async () => {
    app = await startTusApp(
      { authorize: ownerOnly, metadataOverride: (request, metadata) => ({ ...metadata, owner: user(request) ?? '' }) },
      { backend, platform },
    );
  });
  afterAll(() => app.close());

  it('lets the owner create, read, write, download and delete', async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 3, 'X-User': 'ada' });
    expect((await send('HEAD', url, { headers: as('ada') })).status).toBe(200);
    expect((await send('PATCH', url, { headers: { ...patchHeaders(0), 'X-User': 'ada' }, body: 'abc' })).status).toBe(204);
    expect((await send('GET', url, { headers: { 'X-User': 'ada' } })).text).toBe('abc');
    expect((await send('DELETE', url, { headers: as('ada') })).status).toBe(204);
  });

  it('denies everyone else with 403, and a denied request touches nothing', async () => {
    expect((await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 3 } })).status).toBe(403);
    const url = await createUpload(app.url, { 'Upload-Length': 3, 'X-User': 'ada' });
    expect((await send('HEAD', url, { headers: as('eve') })).status).toBe(403);
    const patch = await send('PATCH', url, { headers: { ...patchHeaders(0), 'X-User': 'eve' }, body: 'xyz' });
    expect(patch.status).toBe(403);
    expect((await send('GET', url, { headers: { 'X-User': 'eve' } })).status).toBe(403);
    expect((await send('DELETE', url, { headers: as('eve') })).status).toBe(403);
    const head = await send('HEAD', url, { headers: as('ada') });
    expect(head.status).toBe(200);
    expect(head.headers['upload-offset']).toBe('0');
  });

  it("a stranger's HEAD does not make the owner's stalled PATCH stop (the owner's does)", async () => {
    const url = await createUpload(app.url, { 'Upload-Length': 10, 'X-User': 'ada' });
    const held = startHeldPatch(url, 0, Buffer.from('abcd'), 10, { 'X-User': 'ada' });
    await held.sent;
    // A stranger asks for 2.5 s: the PATCH goes silent past the stall threshold (1 s) meanwhile,
    // however long a loaded machine took to bring it to its write.
    for (const until = Date.now() + 2_500; Date.now() < until; await sleep(250)) {
      expect((await send('HEAD', url, { headers: as('eve') })).status).toBe(403);
    }
    expect(held.request.destroyed).toBe(false);
    // The owner's HEAD stops it and is told the 4 bytes it saved.
    const ownersOffset = async () => (await send('HEAD', url, { headers: as('ada') })).headers['upload-offset'];
    await eventually(async () => (await ownersOffset()) === '4', 15_000, "the owner's HEAD at offset 4");
    expect(await held.answer).toBeNull(); // stopped: its connection closed without an answer
  });

  it('answers the status of an HttpException thrown by authorize', async () => {
    const response = await send('POST', app.url, { headers: { ...as('broke'), 'Upload-Length': 3 } });
    expect(response.status).toBe(402);
    expect(response.text).toBe('Quota exceeded\n');
  });

  it("refuses to concatenate another user's partials", async () => {
    const partial = await createUpload(app.url, { 'Upload-Length': 1, 'Upload-Concat': 'partial', 'X-User': 'ada' });
    await send('PATCH', partial, { headers: { ...patchHeaders(0), 'X-User': 'ada' }, body: 'a' });
    const final = await send('POST', app.url, { headers: { ...as('eve'), 'Upload-Concat': `final;${partial}` } });
    expect(final.status).toBe(403);
  });
});

/** A guard reading a bearer token, as an app's auth guard would. */
@Injectable()
class TokenGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<IncomingMessage>().headers.authorization === 'Bearer secret';
  }
}

describe.each(PLATFORMS)('guards extra on %s', (platform) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTusApp({ guards: [TokenGuard] }, { platform });
  });
  afterAll(() => app.close());

  it('guards every tus route', async () => {
    expect((await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 1 } })).status).toBe(403);
    const created = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 1, Authorization: 'Bearer secret' } });
    expect(created.status).toBe(201);
    const url = locationOf(created, app.url);
    expect((await send('HEAD', url, { headers: TUS })).status).toBe(403);
    expect((await send('HEAD', url, { headers: { ...TUS, Authorization: 'Bearer secret' } })).status).toBe(200);
    expect((await send('DELETE', url, { headers: TUS })).status).toBe(403);
  });

  it('leaves OPTIONS open, as a CORS preflight carries no credentials', async () => {
    const response = await send('OPTIONS', app.url);
    expect(response.status).toBe(204);
    expect(response.headers['tus-version']).toBe('1.0.0');
  });
});
