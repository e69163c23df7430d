import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UploadOptions } from 'tus-js-client';
import { send } from '../support/http/requests.js';
import { type IetfExchange, ietfRequest } from '../support/http/ietf-client.js';
import { appendFields, draft, saysComplete } from '../support/http/ietf-draft.js';
import { startProxy, type Proxy } from '../support/servers/nginx.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';
import { MiB, sha256 } from '../support/bytes.js';


/** The exchange, or `'no answer'` when none came within `ms`. */
const within = (ms: number, exchange: Promise<IetfExchange>) => Promise.race([exchange, sleep(ms).then(() => 'no answer' as const)]);

/**
 * nginx 1.22 (the proxy of test/support/servers/nginx.ts) takes an upstream 104 for the final response
 * (docs/ietf-resumable-upload.md, section 6). With `ietf.interimResponses: false`, as the README
 * recommends behind it, every draft request goes through nginx as a plain exchange, kept-alive
 * connections to the client and to the upstream included. The broken case is shown too, so that the
 * recommendation rests on what this nginx does: with 104s on and upstream keep-alive, the next
 * request on the client's connection gets no answer; without upstream keep-alive the client gets
 * the upstream's bytes after nginx's own final head, which its parser refuses.
 */
describe.each(TARGETS)('the draft behind nginx, $name', ({ backend, platform }) => {
  let quiet: RunningApp;
  let announcing: RunningApp;
  let quietPooled: Proxy;
  let announcingPooled: Proxy;
  let announcingPlain: Proxy;

  beforeAll(async () => {
    [quiet, announcing] = await Promise.all([
      startTusApp({ trustForwardedHeaders: true, ietf: { interimResponses: false } }, { backend, platform }),
      startTusApp({ trustForwardedHeaders: true }, { backend, platform }),
    ]);
    [quietPooled, announcingPooled, announcingPlain] = await Promise.all([
      startProxy(quiet.origin, { upstreamKeepalive: true }),
      startProxy(announcing.origin, { upstreamKeepalive: true }),
      startProxy(announcing.origin),
    ]);
  });
  afterAll(async () => {
    await Promise.all([quietPooled?.stop(), announcingPooled?.stop(), announcingPlain?.stop()]);
    await Promise.all([quiet?.close(), announcing?.close()]);
  });

  it('interimResponses off, upstream keep-alive: creation, HEAD and append on one client connection, each framed by nginx', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const created = await ietfRequest('POST', `${quietPooled.origin}/files`, { headers: { ...draft(8, false), 'Upload-Length': 11 }, body: 'hello', agent });
      expect([created.status, created.interim, created.headers['upload-offset']]).toEqual([201, [], '5']);
      expect(created.headers.server).toMatch(/^nginx/);
      expect(created.headers.location!.startsWith(quietPooled.origin)).toBe(true);
      const head = await ietfRequest('HEAD', created.headers.location!, { headers: draft(8), agent });
      expect([head.status, head.headers['upload-offset'], head.reusedSocket]).toEqual([204, '5', true]);
      const appended = await ietfRequest('PATCH', created.headers.location!, { headers: appendFields(8, 5, true), body: ' world', agent });
      expect([appended.status, saysComplete(8, appended.headers), appended.reusedSocket]).toEqual([200, true, true]);
      expect((await send('GET', created.headers.location!)).text).toBe('hello world');
    } finally {
      agent.destroy();
    }
  });

  it('interimResponses off: tus-js-client (ietf-draft-05) uploads through nginx, bytes intact', async () => {
    const data = randomBytes(3 * MiB);
    const { url } = await runUpload(data, { endpoint: `${quietPooled.origin}/files`, chunkSize: MiB, protocol: 'ietf-draft-05' } as UploadOptions);
    expect(url.startsWith(quietPooled.origin)).toBe(true);
    expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
  });

  it('the broken case: 104s on, upstream keep-alive: the next request on the connection gets no answer', async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await within(3_000, ietfRequest('POST', `${announcingPooled.origin}/files`, { headers: draft(8, true), body: 'abc', agent }));
      // nginx answered the 104 as the final response: what follows is relayed as its body, never ending.
      const second = await within(1_500, ietfRequest('POST', `${announcingPooled.origin}/files`, { headers: draft(8, true), body: 'def', agent }));
      expect(first === 'no answer' || second === 'no answer').toBe(true);
    } finally {
      agent.destroy();
    }
  });

  it('the broken case: 104s on, no upstream keep-alive: the client cannot read the answer nginx makes of it', async () => {
    // nginx sends its own head for the 104 (Connection: close, as the client asked), then the
    // upstream's remaining bytes, the real 201 among them, which no HTTP parser may read after a
    // final response that closes the connection.
    await expect(ietfRequest('POST', `${announcingPlain.origin}/files`, { headers: draft(8, true), body: 'abc' })).rejects.toThrow(/Parse Error/);
  });
});
