import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IncomingHttpHeaders } from 'node:http';
import { send, slowBody } from '../support/http/requests.js';
import { ietfRequest, type IetfExchange } from '../support/http/ietf-client.js';
import { appendFields, draft, expectNoTusFields, INTEROP, type Interop, lifetimeKey, saysComplete } from '../support/http/ietf-draft.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { base64Digest } from '../support/bytes.js';

const MAX_SIZE = 10 * 1024 * 1024;
const PROBLEM = 'https://iana.org/assignments/http-problem-types#';
const digestOf = (algorithm: string, text: string) => `:${base64Digest(algorithm, text)}:`;

/** The problem type of a problem+json answer, or the plain text reason. */
function problemOf(response: { headers: IncomingHttpHeaders; text: string }): { type?: string; [member: string]: unknown } | string {
  const type = response.headers['content-type'] ?? '';
  if (type.startsWith('application/problem+json')) return JSON.parse(response.text) as { type: string };
  expect(type).toMatch(/^text\/plain/);
  return response.text;
}

/**
 * Every request of the draft, for each interop version, on each backend and platform, over raw
 * HTTP: what the drafts require of the answers (docs/ietf-resumable-upload.md, section 2), the
 * 104 of each creation as Node's client reads it from the socket, and never a tus field.
 */
describe.each(TARGETS)('IETF draft requests, $name', ({ backend, platform }) => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startTusApp({ maxSize: MAX_SIZE }, { backend, platform });
  });
  afterAll(() => app.close());

  const at = (exchange: IetfExchange) => new URL(exchange.headers.location!, app.url).href;
  const create = async (version: Interop, complete: boolean, body?: string, headers: Record<string, string | number> = {}) => {
    const exchange = await ietfRequest('POST', app.url, { headers: { ...draft(version, complete), ...headers }, body });
    expectNoTusFields(exchange.headers);
    return exchange;
  };

  describe.each(INTEROP)('interop version %i', (version) => {
    const hasLimits = version >= 6;

    it('OPTIONS: the limits where the version has them (max-size, lifetime), Accept-Patch from 8, no tus field', async () => {
      const response = await ietfRequest('OPTIONS', app.url, { headers: draft(version) });
      expect(response.status).toBe(204);
      expect(response.headers['upload-draft-interop-version']).toBe(String(version));
      expect(response.headers['upload-limit']).toBe(hasLimits ? `max-size=${MAX_SIZE}, ${lifetimeKey(version)}=86400` : undefined);
      expect(response.headers['accept-patch']).toBe(version === 8 ? 'application/partial-upload' : undefined);
      expectNoTusFields(response.headers);
    });

    it('creation without content: a 104 announces the upload, the 201 repeats its Location', async () => {
      const created = await create(version, false, undefined, { 'Upload-Length': 11 });
      expect(created.interim).toHaveLength(1);
      const [interim] = created.interim;
      expect(interim).toMatchObject({ status: 104, reason: 'Upload Resumption Supported' });
      expect(interim!.headers['upload-draft-interop-version']).toBe(String(version));
      expect(interim!.headers.location).toBe(created.headers.location);
      expect(interim!.headers['upload-limit'] !== undefined).toBe(hasLimits);
      expect(created.status).toBe(201);
      expect(created.headers['upload-offset']).toBe('0');
      expect(saysComplete(version, created.headers)).toBe(false);
      expect(created.headers['upload-limit'] !== undefined).toBe(hasLimits);
    });

    it('creation with all the content completes it; HEAD says so; the bytes are stored', async () => {
      const created = await create(version, true, 'hello world');
      expect(created.interim.map((interim) => interim.status)).toEqual([104]);
      expect([created.status, created.headers['upload-offset'], saysComplete(version, created.headers)]).toEqual([201, '11', true]);
      const head = await ietfRequest('HEAD', at(created), { headers: draft(version) });
      expect([head.status, head.headers['upload-offset'], head.headers['upload-length'], head.headers['cache-control']]).toEqual([204, '11', '11', 'no-store']);
      expect(saysComplete(version, head.headers)).toBe(true);
      // A completed upload no longer expires: its limits have no lifetime.
      expect(head.headers['upload-limit']).toBe(hasLimits ? `max-size=${MAX_SIZE}` : undefined);
      expectNoTusFields(head.headers);
      expect((await send('GET', at(created))).text).toBe('hello world');
    });

    it('creation with part of the content, HEAD, then an append that completes it', async () => {
      const created = await create(version, false, 'hello', { 'Upload-Length': 11 });
      expect([created.status, created.headers['upload-offset'], saysComplete(version, created.headers)]).toEqual([201, '5', false]);
      const head = await ietfRequest('HEAD', at(created), { headers: draft(version) });
      expect([head.status, head.headers['upload-offset'], head.headers['upload-length']]).toEqual([204, '5', '11']);
      expect(saysComplete(version, head.headers)).toBe(false);
      if (hasLimits) expect(head.headers['upload-limit']).toMatch(new RegExp(`^max-size=${MAX_SIZE}, ${lifetimeKey(version)}=86\\d{3}$`));
      const appended = await ietfRequest('PATCH', at(created), { headers: appendFields(version, 5, true), body: ' world' });
      expect([appended.status, appended.headers['upload-offset'], saysComplete(version, appended.headers)]).toEqual([200, '11', true]);
      expect(appended.interim).toEqual([]);
      expectNoTusFields(appended.headers);
      expect((await send('GET', at(created))).text).toBe('hello world');
    });

    it('an append that does not complete: the version\'s status, Upload-Offset and the completeness field', async () => {
      const created = await create(version, false);
      const appended = await ietfRequest('PATCH', at(created), { headers: appendFields(version, 0, false), body: 'abc' });
      expect([appended.status, appended.headers['upload-offset'], saysComplete(version, appended.headers)]).toEqual([version <= 6 ? 201 : 204, '3', false]);
      expectNoTusFields(appended.headers);
    });

    it('a mismatching offset: 409 with the upload\'s offset; the problem details from interop 6', async () => {
      const created = await create(version, false);
      const refused = await ietfRequest('PATCH', at(created), { headers: appendFields(version, 3, false), body: 'abc' });
      expect([refused.status, refused.headers['upload-offset']]).toEqual([409, '0']);
      const problem = problemOf(refused);
      if (hasLimits) {
        expect(problem).toMatchObject({ type: `${PROBLEM}mismatching-upload-offset`, status: 409, 'expected-offset': 0, 'provided-offset': 3 });
      } else {
        expect(typeof problem).toBe('string');
      }
      if (version >= 7) expect(saysComplete(version, refused.headers)).toBe(false);
      expectNoTusFields(refused.headers);
    });

    it('content for a completed upload: 400 (completed-upload for 6 and 7, inconsistent length for 8), the upload unchanged', async () => {
      const created = await create(version, true, 'abc');
      const refused = await ietfRequest('PATCH', at(created), { headers: appendFields(version, 3, true), body: 'd' });
      expect(refused.status).toBe(400);
      const problem = problemOf(refused);
      if (version === 6 || version === 7) expect(problem).toMatchObject({ type: `${PROBLEM}completed-upload`, status: 400 });
      else if (version === 8) expect(problem).toMatchObject({ type: `${PROBLEM}inconsistent-upload-length`, status: 400 });
      else expect(typeof problem).toBe('string');
      expectNoTusFields(refused.headers);
      const head = await ietfRequest('HEAD', at(created), { headers: draft(version) });
      expect(head.headers['upload-offset']).toBe('3');
      expect((await send('GET', at(created))).text).toBe('abc');
    });

    it('inconsistent lengths at creation: 400 before anything is created; the problem details from interop 7', async () => {
      const refused = await create(version, true, 'abc', { 'Upload-Length': 5 });
      expect(refused.status).toBe(400);
      expect(refused.interim).toEqual([]);
      expect(refused.headers.location).toBeUndefined();
      const problem = problemOf(refused);
      if (version >= 7) expect(problem).toMatchObject({ type: `${PROBLEM}inconsistent-upload-length`, status: 400 });
      else expect(typeof problem).toBe('string');
    });

    it('cancellation: 204, then the upload is gone', async () => {
      const created = await create(version, false, 'abc');
      if (version <= 6) {
        const refused = await ietfRequest('DELETE', at(created), { headers: { ...draft(version), 'Upload-Offset': '3' } });
        expect(refused.status).toBe(400);
      }
      const deleted = await ietfRequest('DELETE', at(created), { headers: draft(version) });
      expect(deleted.status).toBe(204);
      expect(deleted.headers['upload-draft-interop-version']).toBe(String(version));
      expectNoTusFields(deleted.headers);
      const head = await ietfRequest('HEAD', at(created), { headers: draft(version) });
      expect(head.status).toBe(404);
      expectNoTusFields(head.headers);
    });

    it('an append without what the version requires: Upload-Offset (all), the media type (6 on), the completeness field (7 on)', async () => {
      const created = await create(version, false);
      const { 'Upload-Offset': _offset, ...withoutOffset } = appendFields(version, 0, false);
      expect((await ietfRequest('PATCH', at(created), { headers: withoutOffset, body: 'a' })).status).toBe(400);
      const otherType = await ietfRequest('PATCH', at(created), {
        headers: { ...appendFields(version, 0, false), 'Content-Type': 'application/offset+octet-stream' },
        body: 'a',
      });
      expect(otherType.status).toBe(version >= 6 ? 415 : 201);
      const offset = Number(otherType.headers['upload-offset'] ?? 0);
      const { 'Upload-Complete': _complete, 'Upload-Incomplete': _incomplete, ...withoutCompleteness } = appendFields(version, offset, false);
      const silent = await ietfRequest('PATCH', at(created), { headers: withoutCompleteness, body: 'b' });
      expect(silent.status).toBe(version >= 7 ? 400 : 201);
      expectNoTusFields(silent.headers);
    });

    it('complete content of unknown length (chunked) completes an upload created without a length', async () => {
      const created = await create(version, false);
      const appended = await send('PATCH', at(created), {
        headers: appendFields(version, 0, true),
        body: slowBody([Buffer.from('hello '), Buffer.from('chunked')], 5),
      });
      expect([appended.status, appended.headers['upload-offset'], saysComplete(version, appended.headers)]).toEqual([200, '13', true]);
      const head = await ietfRequest('HEAD', at(created), { headers: draft(version) });
      expect([head.headers['upload-length'], saysComplete(version, head.headers)]).toEqual(['13', true]);
      expect((await send('GET', at(created))).text).toBe('hello chunked');
    });

    if (version >= 6) {
      it('Content-Digest (sha-256, sha-512): a matching append is stored, a mismatching one discarded with 400', async () => {
        const created = await create(version, false, undefined, { 'Upload-Length': 10 });
        const good = await ietfRequest('PATCH', at(created), {
          headers: { ...appendFields(version, 0, false), 'Content-Digest': `sha-256=${digestOf('sha256', 'hello')}, sha-512=${digestOf('sha512', 'hello')}` },
          body: 'hello',
        });
        expect([good.status, good.headers['upload-offset']]).toEqual([version === 6 ? 201 : 204, '5']);
        const bad = await ietfRequest('PATCH', at(created), {
          headers: { ...appendFields(version, 5, true), 'Content-Digest': `sha-256=${digestOf('sha256', 'world')}` },
          body: 'wrld!',
        });
        expect(bad.status).toBe(400);
        expect(bad.text).toMatch(/Content-Digest does not match/);
        expect(bad.headers['upload-offset']).toBe('5');
        const head = await ietfRequest('HEAD', at(created), { headers: draft(version) });
        expect([head.headers['upload-offset'], saysComplete(version, head.headers)]).toEqual(['5', false]);
        const malformed = await ietfRequest('PATCH', at(created), { headers: { ...appendFields(version, 5, true), 'Content-Digest': 'sha-256=abc' }, body: 'world' });
        expect(malformed.status).toBe(400);
      });

      it('Repr-Digest on a creation that carries the whole representation is checked; the announced upload keeps nothing', async () => {
        const refused = await create(version, true, 'hello', { 'Repr-Digest': `sha-256=${digestOf('sha256', 'other')}` });
        expect(refused.status).toBe(400);
        expect(refused.text).toMatch(/Repr-Digest does not match/);
        const [interim] = refused.interim;
        const head = await ietfRequest('HEAD', new URL(interim!.headers.location as string, app.url).href, { headers: draft(version) });
        expect([head.status, head.headers['upload-offset']]).toEqual([204, '0']);
        const accepted = await create(version, true, 'hello', { 'Repr-Digest': `sha-256=${digestOf('sha256', 'hello')}` });
        expect([accepted.status, saysComplete(version, accepted.headers)]).toEqual([201, true]);
      });
    }
  });

  it("takes the file's type and name from Content-Type and Content-Disposition, and tus-js-client's Upload-Metadata", async () => {
    const created = await create(8, true, 'PNG!', {
      'Content-Type': 'image/png',
      'Content-Disposition': `inline; filename="fallback.png"; filename*=UTF-8''%C3%A9t%C3%A9.png`,
    });
    const download = await send('GET', at(created));
    expect(download.headers['content-type']).toBe('image/png');
    expect(download.headers['content-disposition']).toContain("filename*=UTF-8''%C3%A9t%C3%A9.png");
    const tagged = await create(6, true, 'abc', {
      'Content-Type': 'application/partial-upload',
      'Upload-Metadata': `filename ${Buffer.from('notes.txt').toString('base64')}`,
      'Upload-Defer-Length': 1,
    });
    expect(tagged.status).toBe(201);
    const tagDownload = await send('GET', at(tagged));
    expect(tagDownload.headers['content-type']).toBe('application/octet-stream');
    expect(tagDownload.headers['content-disposition']).toContain('filename="notes.txt"');
  });

  it('a POST without the completeness field is no upload creation: 400, nothing created', async () => {
    const refused = await ietfRequest('POST', app.url, { headers: draft(8), body: 'abc' });
    expect([refused.status, refused.interim, refused.headers.location]).toEqual([400, [], undefined]);
    expect(refused.text).toMatch(/Upload-Complete/);
  });
});
