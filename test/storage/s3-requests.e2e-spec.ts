import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { S3StorageBackend } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';
import type { BackendFixture } from '../support/apps/backends.js';
import { locationOf, OFFSET_OCTET_STREAM, send, TUS } from '../support/http/requests.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';

/**
 * The S3 requests of the two cheapest tus requests, counted through an SDK middleware (one entry
 * per command sent, retries not counted): issue 16's small-upload and HEAD cost on S3. A change
 * that adds a request to either shows here; one that cuts one updates the list, with the reason.
 */
describe('S3 requests per tus request', () => {
  let app: TusApp;
  const sent: string[] = [];

  beforeAll(async () => {
    const client = createTestS3Client(s3ServerFromEnv());
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const key = (args.input as { Key?: string }).Key ?? '';
        const object = /\.info$/.test(key) ? '.info' : /\.lock$/.test(key) ? '.lock' : /\.pending\./.test(key) ? '.pending' : key === '' ? '' : 'data';
        sent.push(`${context.commandName?.replace(/Command$/, '')} ${object}`.trim());
        return next(args);
      },
      { step: 'initialize', name: 'countS3Requests' },
    );
    const { bucket, dispose } = await createTestBucket(client, 's3-requests');
    const backend: BackendFixture = {
      name: 's3',
      kind: 'object store',
      label: 's3',
      create: async () => ({
        options: { storage: new S3StorageBackend({ client, bucket, keyPrefix: 'uploads/' }) },
        cleanup: async () => {
          await dispose();
          client.destroy();
        },
      }),
    };
    app = await startTusApp({}, { backend });
  });
  afterAll(async () => {
    await app?.close();
  });

  /** The S3 requests `work` sends. */
  async function requestsOf(work: () => Promise<void>): Promise<string[]> {
    sent.length = 0;
    await work();
    return [...sent];
  }

  let uploadUrl: string;

  it('a 10 KiB creation-with-upload', async () => {
    const body = randomBytes(10 * 1024);
    const requests = await requestsOf(async () => {
      const response = await send('POST', app.url, {
        headers: { ...TUS, 'Upload-Length': body.length, 'Content-Type': OFFSET_OCTET_STREAM },
        body,
      });
      expect(response.status).toBe(201);
      expect(response.headers['upload-offset']).toBe(String(body.length));
      uploadUrl = locationOf(response, app.url);
    });
    expect(requests).toEqual([
      'PutObject .lock',
      'PutObject .info', // created, If-None-Match: *
      'PutObject data', // the whole upload, If-None-Match: *
      'PutObject .info', // completed, If-Match
      'GetObject .lock',
      'DeleteObject .lock',
    ]);
    const download = await send('GET', uploadUrl);
    expect(download.body.equals(body)).toBe(true);
  });

  it('a HEAD', async () => {
    const requests = await requestsOf(async () => {
      const response = await send('HEAD', uploadUrl, { headers: TUS });
      expect(response.headers['upload-offset']).toBe(String(10 * 1024));
    });
    expect(requests).toEqual(['GetObject .info']);
  });
});
