import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { base64Digest } from '../support/bytes.js';
import { TARGETS } from '../support/apps/targets.js';
import { createUpload, locationOf, OFFSET_OCTET_STREAM, offsetOf, patchHeaders, send, sendPatch, slowBody, type TestRequest, type TestResponse, TUS } from '../support/http/requests.js';
import { isDataEntry, storedBytesOf, storedEntries, storedNames } from '../support/storage/stored.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';

const ALGORITHMS = ['sha1', 'md5', 'sha256', 'sha512'] as const;

/** Checklist 31-33: the checksum and checksum-trailer extensions. */
describe.each(TARGETS)('checksum on the $name', ({ backend, platform }) => {
  let app: TusApp;

  beforeAll(async () => {
    // downloadUnfinished: the tests read an unfinished upload's bytes through GET.
    app = await startTusApp({ downloadUnfinished: true }, { backend, platform });
  });
  afterAll(async () => {
    await app?.close();
  });

  const bytesOf = (upload: string) => storedBytesOf(app.app, upload);
  const patch = (upload: string, offset: number, body: TestRequest['body'], checksum?: string) =>
    sendPatch(upload, offset, body, checksum === undefined ? {} : { 'Upload-Checksum': checksum });

  /** An upload of 20 bytes already holding 'abc'. */
  async function started(): Promise<string> {
    const upload = await createUpload(app.url, { 'Upload-Length': 20 });
    expect((await patch(upload, 0, 'abc')).status).toBe(204);
    return upload;
  }

  async function expectUnchanged(upload: string): Promise<void> {
    expect(await offsetOf(upload)).toBe(3);
    expect((await bytesOf(upload)).toString()).toBe('abc');
  }

  it('31: Tus-Checksum-Algorithm lists lowercase algorithms, sha1 among them', async () => {
    const response = await send('OPTIONS', app.url);
    const algorithms = String(response.headers['tus-checksum-algorithm']).split(',');
    expect(algorithms).toContain('sha1');
    for (const algorithm of algorithms) expect(algorithm).toBe(algorithm.trim().toLowerCase());
    for (const algorithm of ALGORITHMS) expect(algorithms).toContain(algorithm);
    expect(String(response.headers['tus-extension']).split(',')).toContain('checksum');
  });

  describe('32: Upload-Checksum on PATCH', () => {
    it.each(ALGORITHMS)('32: %s with a correct digest is accepted', async (algorithm) => {
      const upload = await started();
      const response = await patch(upload, 3, 'defgh', `${algorithm} ${base64Digest(algorithm, 'defgh')}`);
      expect(response.status).toBe(204);
      expect(response.headers['upload-offset']).toBe('8');
      expect((await bytesOf(upload)).toString()).toBe('abcdefgh');
    });

    it.each(ALGORITHMS)('32: %s with a correct digest of a chunked body is accepted', async (algorithm) => {
      const upload = await started();
      const response = await patch(upload, 3, slowBody([Buffer.from('def'), Buffer.from('gh')], 5), `${algorithm} ${base64Digest(algorithm, 'defgh')}`);
      expect(response.status).toBe(204);
      expect(await offsetOf(upload)).toBe(8);
      expect((await bytesOf(upload)).toString()).toBe('abcdefgh');
    });

    it.each(ALGORITHMS)('32: %s mismatch is 460, the offset and bytes unchanged', async (algorithm) => {
      const upload = await started();
      const response = await patch(upload, 3, 'defgh', `${algorithm} ${base64Digest(algorithm, 'DEFGH')}`);
      expect(response.status).toBe(460);
      expect(response.headers['tus-resumable']).toBe('1.0.0');
      await expectUnchanged(upload);
    });

    it('32: a mismatch on a chunked body is 460 and nothing is kept', async () => {
      const upload = await started();
      const response = await patch(upload, 3, slowBody([Buffer.from('def'), Buffer.from('gh')], 5), `sha1 ${base64Digest('sha1', 'other')}`);
      expect(response.status).toBe(460);
      await expectUnchanged(upload);
    });

    it('32: after a mismatch the chunk is accepted with the right digest', async () => {
      const upload = await started();
      expect((await patch(upload, 3, 'xyz', `sha256 ${base64Digest('sha256', 'xyZ')}`)).status).toBe(460);
      const response = await patch(upload, 3, 'xyz', `sha256 ${base64Digest('sha256', 'xyz')}`);
      expect(response.status).toBe(204);
      expect((await bytesOf(upload)).toString()).toBe('abcxyz');
    });

    it('32: a mismatch on the chunk that would complete the upload leaves it unfinished', async () => {
      const upload = await createUpload(app.url, { 'Upload-Length': 6 });
      expect((await patch(upload, 0, 'abc')).status).toBe(204);
      expect((await patch(upload, 3, 'def', `md5 ${base64Digest('md5', 'de')}`)).status).toBe(460);
      await expectUnchanged(upload);
    });

    // A digest of valid base64 but the wrong size for its algorithm cannot match the bytes: a
    // checksum mismatch (460), not a malformed header (400).
    const wrongSize: [string, string][] = [
      ['sha1 with 21 bytes', `sha1 ${Buffer.alloc(21, 7).toString('base64')}`],
      ['sha256 with a sha1 digest of the same bytes', `sha256 ${base64Digest('sha1', 'defgh')}`],
      ['md5 with 4 bytes', 'md5 AAAAAA=='],
      // 40 hex digits are also valid base64, of 30 bytes.
      ['a hex sha1 digest', `sha1 ${createHash('sha1').update('defgh').digest('hex')}`],
    ];

    it.each(wrongSize)('32: %s is 460, the offset and bytes unchanged', async (_name, header) => {
      const upload = await started();
      const response = await patch(upload, 3, 'defgh', header);
      expect(response.status).toBe(460);
      expect(response.headers['tus-resumable']).toBe('1.0.0');
      await expectUnchanged(upload);
    });

    const malformed: [string, string][] = [
      ['an unsupported algorithm', `crc32 ${base64Digest('sha1', 'def')}`],
      ['an unknown algorithm', `sha3 ${base64Digest('sha256', 'def')}`],
      ['no digest', 'sha1'],
      ['no algorithm', base64Digest('sha1', 'def')],
      ['a digest that is not base64', 'sha1 !!!!not-base64!!!!'],
      ['three parts', `sha1 ${base64Digest('sha1', 'def')} extra`],
      ['an empty header', ''],
    ];

    it.each(malformed)('32: %s is 400 and nothing is stored', async (_name, header) => {
      const upload = await started();
      const response = await patch(upload, 3, 'def', header);
      expect(response.status).toBe(400);
      await expectUnchanged(upload);
    });
  });

  describe('32: Upload-Checksum on creation-with-upload', () => {
    const create = (body: string, checksum: string) =>
      send('POST', app.url, { headers: { ...TUS, 'Upload-Length': 10, 'Content-Type': OFFSET_OCTET_STREAM, 'Upload-Checksum': checksum }, body });

    /** Entries holding bytes (data file, S3 object or multipart upload) created by `request`, with their sizes. */
    async function newFiles(request: () => Promise<TestResponse>): Promise<{ response: TestResponse; sizes: number[] }> {
      const before = new Set(await storedNames(app.app));
      const response = await request();
      const created = (await storedEntries(app.app)).filter((entry) => !before.has(entry.name) && isDataEntry(entry));
      return { response, sizes: created.map((entry) => entry.size) };
    }

    it.each(ALGORITHMS)('32: %s with a correct digest: 201 with the offset', async (algorithm) => {
      const response = await create('hello', `${algorithm} ${base64Digest(algorithm, 'hello')}`);
      expect(response.status).toBe(201);
      expect(response.headers['upload-offset']).toBe('5');
      const upload = locationOf(response, app.url);
      expect(await offsetOf(upload)).toBe(5);
      expect((await bytesOf(upload)).toString()).toBe('hello');
    });

    it('32: a mismatch is 460 and no bytes are stored', async () => {
      const { response, sizes } = await newFiles(() => create('hello', `sha1 ${base64Digest('sha1', 'HELLO')}`));
      expect(response.status).toBe(460);
      expect(sizes.every((size) => size === 0)).toBe(true);
    });

    it('32: a digest of the wrong size for its algorithm is 460 and no bytes are stored', async () => {
      const { response, sizes } = await newFiles(() => create('hello', `sha512 ${base64Digest('md5', 'hello')}`));
      expect(response.status).toBe(460);
      expect(sizes.every((size) => size === 0)).toBe(true);
    });

    it.each(malformed())('32: %s is 400 and nothing is created', async (_name, header) => {
      const before = await storedNames(app.app);
      const response = await create('hello', header);
      expect(response.status).toBe(400);
      expect(response.headers.location).toBeUndefined();
      expect(await storedNames(app.app)).toEqual(before);
    });

    function malformed(): [string, string][] {
      return [
        ['an unsupported algorithm', `crc32 ${base64Digest('sha1', 'hello')}`],
        ['no digest', 'sha1'],
        ['a digest that is not base64', 'sha1 ****'],
      ];
    }
  });

  describe('33: Upload-Checksum as a trailer (checksum-trailer)', () => {
    /** A chunked PATCH whose `Upload-Checksum` follows the body as a trailer (`undefined`: announced, not sent). */
    function patchWithTrailer(upload: string, offset: number, parts: string[], checksum: string | undefined): Promise<number> {
      return new Promise((resolve, reject) => {
        const req = httpRequest(upload, {
          method: 'PATCH',
          agent: false,
          headers: { ...patchHeaders(offset), 'Transfer-Encoding': 'chunked', Trailer: 'Upload-Checksum' },
        });
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.on('error', reject);
        for (const part of parts) req.write(part);
        if (checksum !== undefined) req.addTrailers({ 'Upload-Checksum': checksum });
        req.end();
      });
    }

    it.each(ALGORITHMS)('33: a %s trailer with the right digest is accepted', async (algorithm) => {
      const upload = await started();
      expect(await patchWithTrailer(upload, 3, ['de', 'fgh'], `${algorithm} ${base64Digest(algorithm, 'defgh')}`)).toBe(204);
      expect(await offsetOf(upload)).toBe(8);
      expect((await bytesOf(upload)).toString()).toBe('abcdefgh');
    });

    it('33: a trailer with the wrong digest is 460, nothing kept', async () => {
      const upload = await started();
      expect(await patchWithTrailer(upload, 3, ['de', 'fgh'], `sha1 ${base64Digest('sha1', 'nope')}`)).toBe(460);
      await expectUnchanged(upload);
    });

    it('33: a trailer digest of the wrong size for its algorithm is 460, nothing kept', async () => {
      const upload = await started();
      expect(await patchWithTrailer(upload, 3, ['de', 'fgh'], `sha1 ${Buffer.alloc(21, 7).toString('base64')}`)).toBe(460);
      await expectUnchanged(upload);
    });

    it('33: a malformed trailer is 400, nothing kept', async () => {
      const upload = await started();
      expect(await patchWithTrailer(upload, 3, ['def'], 'crc32 AAAA')).toBe(400);
      await expectUnchanged(upload);
    });

    it('33: an announced trailer that never comes is 400, nothing kept', async () => {
      const upload = await started();
      expect(await patchWithTrailer(upload, 3, ['def'], undefined)).toBe(400);
      await expectUnchanged(upload);
    });
  });

  describe('checksum disabled', () => {
    let plain: TusApp;
    beforeAll(async () => {
      plain = await startTusApp({ extensions: ['creation', 'termination'] }, { backend, platform });
    });
    afterAll(async () => {
      await plain?.close();
    });

    it('31: no Tus-Checksum-Algorithm when the checksum extension is off', async () => {
      const response = await send('OPTIONS', plain.url);
      expect(response.headers['tus-checksum-algorithm']).toBeUndefined();
      expect(String(response.headers['tus-extension']).split(',')).not.toContain('checksum');
    });
  });
});
