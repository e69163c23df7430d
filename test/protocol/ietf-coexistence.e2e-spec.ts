import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { OnEvent } from '@nestjs/event-emitter';
import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpResponse, UploadOptions } from 'tus-js-client';
import { TusEvent, type TusPostEvent } from 'nestjs-tus';
import { send, TUS, uploadIdOf } from '../support/http/requests.js';
import { ietfRequest } from '../support/http/ietf-client.js';
import { DRAFT_FIELDS, draft, expectNoDraftFields, expectNoTusFields, TUS_FIELDS } from '../support/http/ietf-draft.js';
import { storedInfoJson } from '../support/storage/stored.js';
import { TARGETS } from '../support/apps/targets.js';
import { PLATFORMS, startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';
import { KiB, MiB, sha256 } from '../support/bytes.js';


@Injectable()
class ProtocolRecorder {
  static readonly seen: Array<{ event: string; id: string; protocol: string | undefined }> = [];

  @OnEvent(TusEvent.POST_CREATE)
  created({ upload }: TusPostEvent): void {
    ProtocolRecorder.seen.push({ event: 'created', id: upload.id, protocol: upload.protocol });
  }

  @OnEvent(TusEvent.POST_FINISH)
  finished({ upload }: TusPostEvent): void {
    ProtocolRecorder.seen.push({ event: 'finished', id: upload.id, protocol: upload.protocol });
  }
}

/** Every response's fields, as a tus-js-client upload saw them. */
function recordResponses(into: IncomingHttpHeaders[]): Pick<UploadOptions, 'onAfterResponse'> {
  return {
    onAfterResponse: (_request, response: HttpResponse) => {
      const fields: IncomingHttpHeaders = {};
      for (const name of [...TUS_FIELDS, ...DRAFT_FIELDS]) {
        const value = response.getHeader(name);
        if (value !== undefined) fields[name] = value;
      }
      into.push(fields);
    },
  };
}

describe.each(TARGETS)('tus 1.0 and the IETF draft side by side, $name', ({ backend, platform }) => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startTusApp({}, { backend, platform, providers: [ProtocolRecorder] });
  });
  afterAll(() => app.close());

  it('a tus upload and a draft upload at the same time: neither sees the other\'s fields, both bytes intact', async () => {
    const [tusData, draftData] = [randomBytes(3 * MiB), randomBytes(3 * MiB + 1)];
    const tusResponses: IncomingHttpHeaders[] = [];
    const draftResponses: IncomingHttpHeaders[] = [];
    const [tus, ietf] = await Promise.all([
      runUpload(tusData, { endpoint: app.url, chunkSize: 256 * KiB, ...recordResponses(tusResponses) }),
      runUpload(draftData, { endpoint: app.url, chunkSize: 256 * KiB, protocol: 'ietf-draft-05', ...recordResponses(draftResponses) } as UploadOptions),
    ]);
    expect(tusResponses.length).toBeGreaterThan(12);
    expect(draftResponses.length).toBeGreaterThan(12);
    for (const headers of tusResponses) {
      expectNoDraftFields(headers);
      expect(headers['tus-resumable']).toBe('1.0.0');
    }
    for (const headers of draftResponses) {
      expectNoTusFields(headers);
      expect(headers['upload-draft-interop-version']).toBe('6');
    }
    expect(sha256((await send('GET', tus.url)).body)).toBe(sha256(tusData));
    expect(sha256((await send('GET', ietf.url)).body)).toBe(sha256(draftData));
  });

  it('each request is answered in its own protocol, whichever protocol created the upload', async () => {
    const byDraft = await ietfRequest('POST', app.url, { headers: { ...draft(8, false), 'Upload-Length': 3 }, body: 'ab' });
    const url = new URL(byDraft.headers.location!, app.url).href;
    const tusHead = await send('HEAD', url, { headers: TUS });
    expect([tusHead.status, tusHead.headers['upload-offset'], tusHead.headers['upload-length'], tusHead.headers['tus-resumable']]).toEqual([200, '2', '3', '1.0.0']);
    expectNoDraftFields(tusHead.headers);
    const tusPatch = await send('PATCH', url, { headers: { ...TUS, 'Upload-Offset': '2', 'Content-Type': 'application/offset+octet-stream' }, body: 'c' });
    expect(tusPatch.status).toBe(204);
    expectNoDraftFields(tusPatch.headers);
    const draftHead = await ietfRequest('HEAD', url, { headers: draft(8) });
    expect([draftHead.headers['upload-offset'], draftHead.headers['upload-complete']]).toEqual(['3', '?1']);
    expectNoTusFields(draftHead.headers);
  });

  it('events say which protocol created the upload; the backend keeps it in .info', async () => {
    const tus = await runUpload(Buffer.from('tus bytes'), { endpoint: app.url });
    const ietf = await ietfRequest('POST', app.url, { headers: draft(7, true), body: 'draft bytes' });
    const [tusId, draftId] = [uploadIdOf(tus.url), uploadIdOf(new URL(ietf.headers.location!, app.url).href)];
    const events = ProtocolRecorder.seen.filter((entry) => entry.id === tusId || entry.id === draftId);
    expect(events).toEqual(
      expect.arrayContaining([
        { event: 'created', id: tusId, protocol: 'tus' },
        { event: 'finished', id: tusId, protocol: 'tus' },
        { event: 'created', id: draftId, protocol: 'ietf-draft' },
        { event: 'finished', id: draftId, protocol: 'ietf-draft' },
      ]),
    );
    expect((await storedInfoJson(app.app, tusId)).protocol).toBe('tus');
    expect((await storedInfoJson(app.app, draftId)).protocol).toBe('ietf-draft');
  });
});

/** Refuses every request without `Authorization: Bearer ok`, as an app's own guard does. */
class BearerGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<{ headers: IncomingHttpHeaders; raw?: { headers: IncomingHttpHeaders } }>();
    return (request.raw ?? request).headers.authorization === 'Bearer ok';
  }
}

describe.each(PLATFORMS)('the draft under the module\'s options, on %s', (platform) => {
  const apps: RunningApp[] = [];
  const start = async (...args: Parameters<typeof startTusApp>) => {
    const running = await startTusApp(args[0], { platform, ...args[1] });
    apps.push(running);
    return running;
  };
  afterAll(async () => {
    await Promise.all(apps.map((running) => running.close()));
  });

  it("protocols: ['tus']: a draft request is a tus request (412), answered in tus's fields only", async () => {
    const app = await start({ protocols: ['tus'] });
    const refused = await ietfRequest('POST', app.url, { headers: { ...draft(8, true), 'Content-Type': 'application/offset+octet-stream' }, body: 'abc' });
    expect([refused.status, refused.interim, refused.headers['tus-version']]).toEqual([412, [], '1.0.0']);
    expectNoDraftFields(refused.headers);
    const options = await ietfRequest('OPTIONS', app.url, { headers: draft(8) });
    expect(options.headers['tus-version']).toBe('1.0.0');
    expectNoDraftFields(options.headers);
  });

  it("protocols: ['ietf-draft']: the draft only; a tus request gets a plain 400, no tus field", async () => {
    const app = await start({ protocols: ['ietf-draft'] });
    const refused = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 3 } });
    expect(refused.status).toBe(400);
    expect(refused.text).toMatch(/Upload-Draft-Interop-Version/);
    expectNoTusFields(refused.headers);
    const options = await send('OPTIONS', app.url);
    expect(options.status).toBe(204);
    expectNoTusFields(options.headers);
    const created = await ietfRequest('POST', app.url, { headers: draft(8, true), body: 'abc' });
    expect(created.status).toBe(201);
  });

  it('authorize: a draft creation asks create (and write for its content), a draft append write, HEAD read, DELETE delete', async () => {
    const intents: string[] = [];
    const app = await start({
      authorize: (request, intent) => {
        intents.push(intent);
        return request.headers['x-user'] === 'alice';
      },
    });
    const denied = await ietfRequest('POST', app.url, { headers: { ...draft(8, true), 'X-User': 'mallory' }, body: 'abc' });
    expect([denied.status, denied.interim]).toEqual([403, []]);
    expectNoTusFields(denied.headers);
    const created = await ietfRequest('POST', app.url, { headers: { ...draft(8, false), 'X-User': 'alice' }, body: 'ab' });
    const url = new URL(created.headers.location!, app.url).href;
    const stranger = await ietfRequest('HEAD', url, { headers: { ...draft(8), 'X-User': 'mallory' } });
    expect(stranger.status).toBe(403);
    expect(stranger.headers['upload-offset']).toBeUndefined();
    const strangerPatch = await ietfRequest('PATCH', url, {
      headers: { ...draft(8, true), 'Upload-Offset': '0', 'Content-Type': 'application/partial-upload', 'X-User': 'mallory' },
      body: 'zz',
    });
    expect([strangerPatch.status, strangerPatch.headers['upload-offset']]).toEqual([403, undefined]);
    await ietfRequest('DELETE', url, { headers: { ...draft(8), 'X-User': 'alice' } });
    expect(intents).toEqual(['create', 'create', 'write', 'read', 'write', 'delete']);
  });

  it("the app's guards (the guards extra) run for draft requests too", async () => {
    const app = await start({ guards: [new BearerGuard()] });
    const refused = await ietfRequest('POST', app.url, { headers: draft(8, true), body: 'abc' });
    expect(refused.status).toBe(403);
    expectNoTusFields(refused.headers);
    const allowed = await ietfRequest('POST', app.url, { headers: { ...draft(8, true), Authorization: 'Bearer ok' }, body: 'abc' });
    expect(allowed.status).toBe(201);
  });

  it("CORS: a preflight for a draft request allows the draft's fields; draft responses expose them", async () => {
    const app = await start({ cors: { origin: ['https://app.example'] } });
    const preflight = await send('OPTIONS', app.url, {
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'upload-draft-interop-version,upload-complete' },
    });
    expect(preflight.headers['access-control-allow-headers']).toContain('Upload-Complete');
    expect(preflight.headers['access-control-allow-headers']).toContain('Upload-Draft-Interop-Version');
    const tusPreflight = await send('OPTIONS', app.url, {
      headers: { Origin: 'https://app.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'tus-resumable,upload-length' },
    });
    expect(tusPreflight.headers['access-control-allow-headers']).not.toContain('Upload-Complete');
    const created = await ietfRequest('POST', app.url, { headers: { ...draft(8, false), Origin: 'https://app.example' } });
    expect(created.headers['access-control-expose-headers']).toContain('Upload-Complete');
    expect(created.headers['access-control-expose-headers']).toContain('Upload-Limit');
    expect(created.headers['access-control-expose-headers']).not.toContain('Tus-Resumable');
  });
});
