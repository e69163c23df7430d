import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { UploadOptions } from 'tus-js-client';
import { send } from '../support/http/requests.js';
import { ietfRequest } from '../support/http/ietf-client.js';
import { TcpProxy } from '../support/http/tcp-proxy.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { CutResponseAwareHttpStack, runUpload } from '../support/http/tus-client.js';
import { MiB, sha256 } from '../support/bytes.js';


/** tus-js-client 4.3's draft modes: `ietf-draft-03` speaks interop 5, `ietf-draft-05` interop 6. */
const PROTOCOLS = [
  { protocol: 'ietf-draft-03', interop: '5' },
  { protocol: 'ietf-draft-05', interop: '6' },
] as const;

/** The client's options with a draft protocol (4.3.1's type declarations lack `protocol`). */
const withProtocol = (protocol: string, options: UploadOptions): UploadOptions => ({ ...options, protocol }) as UploadOptions;

/** Fails the upload on any response that carries a tus field or lacks the draft's interop version. */
function draftOnlyResponses(interop: string): Pick<UploadOptions, 'onAfterResponse'> {
  return {
    onAfterResponse: (_request, response) => {
      if (response.getHeader('Tus-Resumable') !== undefined) throw new Error(`a tus field in a draft response (${response.getStatus()})`);
      if (response.getHeader('Upload-Draft-Interop-Version') !== interop) throw new Error(`interop version ${response.getHeader('Upload-Draft-Interop-Version')}`);
    },
  };
}

describe.each(TARGETS)('tus-js-client 4.3 in its IETF draft modes, $name', ({ backend, platform }) => {
  let app: RunningApp;

  beforeAll(async () => {
    app = await startTusApp({}, { backend, platform });
  });
  afterAll(() => app.close());

  describe.each(PROTOCOLS)('protocol $protocol (interop $interop)', ({ protocol, interop }) => {
    it('uploads 5 MiB in 1 MiB chunks with metadata, bytes intact', async () => {
      const data = randomBytes(5 * MiB + 77);
      const chunks: number[] = [];
      const { url } = await runUpload(
        data,
        withProtocol(protocol, {
          endpoint: app.url,
          chunkSize: MiB,
          metadata: { filename: 'five.bin', filetype: 'application/octet-stream' },
          onChunkComplete: (size) => chunks.push(size),
          ...draftOnlyResponses(interop),
        }),
      );
      expect(chunks).toHaveLength(6);
      const download = await send('GET', url);
      expect(sha256(download.body)).toBe(sha256(data));
      expect(download.headers['content-disposition']).toContain('filename="five.bin"');
      const head = await ietfRequest('HEAD', url, { headers: { 'Upload-Draft-Interop-Version': interop } });
      expect([head.headers['upload-offset'], head.headers['upload-complete']]).toEqual([String(data.length), '?1']);
    });

    it('sends the first chunk with the creation (uploadDataDuringCreation)', async () => {
      const data = randomBytes(3 * MiB);
      const { url } = await runUpload(
        data,
        withProtocol(protocol, { endpoint: app.url, chunkSize: 2 * MiB, uploadDataDuringCreation: true, ...draftOnlyResponses(interop) }),
      );
      expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
    });

    it('uploads a stream of unknown length (uploadLengthDeferred), the length declared by the last request', async () => {
      const data = randomBytes(2 * MiB + 5);
      const source = Readable.from([data.subarray(0, MiB), data.subarray(MiB, 2 * MiB), data.subarray(2 * MiB)]);
      const { url } = await runUpload(
        source as unknown as Buffer,
        withProtocol(protocol, { endpoint: app.url, chunkSize: MiB, uploadLengthDeferred: true, ...draftOnlyResponses(interop) }),
      );
      expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
    });

    it('resumes after its connection is cut mid-chunk: the same upload, from the offset the server kept', async () => {
      const proxy = await TcpProxy.start(app.origin);
      try {
        // A connection a request: 0 is the creation, 1 the first append, cut after 1.5 MiB went up
        // at a network's pace (on loopback a whole burst would be cut before the server read it,
        // and a body cut before it is read is lost with its connection: docs/reliability.md).
        proxy.planFor = (index) => (index === 1 ? { up: { cutAfter: 1.5 * MiB, bytesPerSecond: 8 * MiB } } : {});
        const data = randomBytes(6 * MiB);
        const requests: string[] = [];
        const { url } = await runUpload(
          data,
          withProtocol(protocol, {
            endpoint: `${proxy.origin}/files`,
            chunkSize: 4 * MiB,
            retryDelays: [0, 100, 300, 500],
            httpStack: new CutResponseAwareHttpStack({ agent: false }),
            onBeforeRequest: (request) => {
              const offset = request.getHeader('Upload-Offset');
              requests.push(offset === undefined ? request.getMethod() : `${request.getMethod()} ${offset}`);
            },
            ...draftOnlyResponses(interop),
          }),
        );
        expect(proxy.stats.cut).toBe(1);
        // One creation; the cut append; the offset asked; appends from the offset the server kept.
        expect(requests.filter((request) => request === 'POST')).toHaveLength(1);
        expect(requests.slice(0, 3)).toEqual(['POST', 'PATCH 0', 'HEAD']);
        const resumedAt = Number(requests[3]!.split(' ')[1]);
        expect(resumedAt).toBeGreaterThan(0);
        expect(resumedAt).toBeLessThanOrEqual(1.5 * MiB);
        expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
      } finally {
        await proxy.close();
      }
    });
  });
});
