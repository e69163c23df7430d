import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type CanActivate, type ExecutionContext, ForbiddenException, Injectable } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { request as httpRequest } from 'node:http';
import { PLATFORMS, startTusApp, type TusApp } from '../support/apps/tus-app.js';
import { expectBytesKeptAcrossHeldCut, holdGate, type Hold } from '../support/http/cut-while-held.js';
import { createUpload, offsetOf, patchHeaders, send, TUS } from '../support/http/requests.js';

/** What the app's guard does with the next upload request: hold it until released, or refuse it. */
let plan: { hold?: { entered: () => void; open: Promise<void> }; refuse?: boolean } = {};

/** An app's own global guard, as an app checks a token: async, and run before any tus route. */
@Injectable()
class AppGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const method = context.switchToHttp().getRequest<{ method: string }>().method;
    if (method !== 'PATCH' && method !== 'POST') return true;
    const { hold, refuse } = plan;
    plan = {};
    if (refuse) throw new ForbiddenException('Not yours');
    if (hold) {
      hold.entered();
      await hold.open;
    }
    return true;
  }
}

function holdNextRequest(): Hold {
  const { hold, gate } = holdGate();
  plan = { hold: gate };
  return hold;
}

/**
 * Checklist 18 ("keep what arrived") for bytes a client sends and then loses its connection while
 * the app's own guard (or middleware) still runs, before any tus route sees the request: the module
 * takes an upload's body in as the server receives the request, so Node does not drop them with the
 * destroyed request. Before, they were lost (docs/reliability.md said so).
 */
describe.each(PLATFORMS)('bytes cut off while the app’s guard runs, on %s', (platform) => {
  let app: TusApp;

  beforeAll(async () => {
    app = await startTusApp({}, { platform, providers: [{ provide: APP_GUARD, useClass: AppGuard }] });
  });
  afterAll(async () => {
    await app?.close();
  });

  it.each([
    ['a first chunk', 0],
    ['a later chunk', 5],
  ])('%s: the bytes sent before the cut are stored once the guard lets the request on, and the upload completes', async (_name, offset) => {
    await expectBytesKeptAcrossHeldCut(app.url, offset, holdNextRequest);
  });

  it('a chunk the guard refuses stores nothing; its client gets the 403 whole-bodied and its kept-alive connection serves the next request', async () => {
    const content = Buffer.alloc(1024 * 1024, 7);
    const upload = await createUpload(app.url, { 'Upload-Length': content.length });
    plan = { refuse: true };
    // Larger than what the module takes in before the route (64 KiB): the rest must be drained.
    const { status, text, reused } = await patchTwiceOnOneConnection(upload, content);
    expect(status).toBe(403);
    expect(text).toBe('Not yours\n');
    expect(reused).toBe(200);
    expect(await offsetOf(upload)).toBe(0);
  });

  it('a request elsewhere in the app is not taken in: a creation without a body, and a tus-less POST, pass as before', async () => {
    // A POST to the tus path without tus headers is not an upload request: the route answers it (412).
    const bare = await send('POST', app.url, { headers: { 'Content-Type': 'application/offset+octet-stream' }, body: 'not tus' });
    expect(bare.status).toBe(412);
    const created = await send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 3 } });
    expect(created.status).toBe(201);
    // A body of a type the app's parsers read (Nest's JSON parser), larger than what is taken in
    // early: answered as before (Express: the parser's 413 past its 100 KiB; Fastify: 415), not held
    // by a paused request.
    const json = await send('POST', app.url, {
      headers: { ...TUS, 'Upload-Length': 3, 'Content-Type': 'application/json' },
      body: JSON.stringify({ padding: 'x'.repeat(200 * 1024) }),
    });
    expect(json.status).toBe(platform === 'express' ? 413 : 415);
  });
});

/**
 * A PATCH of `content` at offset 0 and then a HEAD on the same kept-alive connection: the first
 * answer's status and text, and the HEAD's status (the connection stayed usable).
 */
async function patchTwiceOnOneConnection(url: string, content: Buffer): Promise<{ status: number; text: string; reused: number }> {
  const { Agent } = await import('node:http');
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(url, { method: 'PATCH', agent, headers: { ...patchHeaders(0), 'Content-Length': content.length } });
      req.on('error', reject);
      req.on('response', (response) => {
        const parts: Buffer[] = [];
        response.on('data', (part: Buffer) => parts.push(part));
        response.on('end', () => resolve({ status: response.statusCode!, text: Buffer.concat(parts).toString() }));
      });
      req.end(content);
    });
    const reused = await new Promise<number>((resolve, reject) => {
      const req = httpRequest(url, { method: 'HEAD', agent, headers: { ...TUS } });
      req.on('error', reject);
      req.on('response', (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode!));
      });
      req.end();
    });
    return { ...first, reused };
  } finally {
    agent.destroy();
  }
}
