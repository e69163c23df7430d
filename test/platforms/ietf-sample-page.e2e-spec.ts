import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { S3Client } from '@aws-sdk/client-s3';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Browser, Page, Request, Response } from 'playwright-core';
import type { CompletedUpload } from '../../apps/sample/src/upload-registry.service.js';
import { launchChromium } from '../support/servers/chromium.js';
import { openSamplePage, recordEndpointTraffic, writeTestFile } from '../support/servers/sample-page.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../support/servers/s3-server.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';
import { MiB } from '../support/bytes.js';


/**
 * The sample's upload page in headless Chromium with its protocol choice set to the IETF draft:
 * tus-js-client 4.3 speaks the draft from a browser too (its `protocol` option; the browser's XHR
 * never shows it the 104, which it does not need). Every request to the endpoint names the interop
 * version and no tus field, every answer is the draft's; the server hashes the bytes it stored.
 */
describe.each(PLATFORMS)('the sample page speaking the IETF draft in Chromium, the sample on %s', (platform) => {
  let work: string;
  let sample: SampleProcess;
  let s3Sample: SampleProcess;
  let s3: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-tus-ietf-browser-'));
    await mkdir(join(work, 'files'));
    const server = s3ServerFromEnv();
    s3 = createTestS3Client(server);
    bucket = await createTestBucket(s3, 'ietf-browser');
    [sample, s3Sample, browser] = await Promise.all([
      startSample({ UPLOAD_DIR: join(work, 'uploads'), HTTP_ADAPTER: platform }),
      startSample({ ...sampleS3Env(server, bucket.bucket), HTTP_ADAPTER: platform }),
      launchChromium(),
    ]);
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([sample?.stop(), s3Sample?.stop()]);
    await bucket?.dispose();
    s3?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
    expect(pageErrors).toEqual([]);
  });

  const createFile = (name: string, size: number) => writeTestFile(join(work, 'files'), name, size);

  async function openPage(app: SampleProcess, query: string): Promise<{ page: Page; requests: Request[]; responses: Response[] }> {
    const page = await openSamplePage(browser, app.url, query, pageErrors);
    return { page, ...recordEndpointTraffic(page, app.url) };
  }

  async function completed(app: SampleProcess, page: Page, id: string): Promise<CompletedUpload> {
    await page.locator(`tr[data-id="${id}"]`).waitFor({ timeout: 30_000 });
    const list = (await (await fetch(`${new URL(app.url).origin}/api/uploads`)).json()) as CompletedUpload[];
    return list.find((entry) => entry.id === id)!;
  }

  const cases = [
    { protocol: 'ietf-draft-05', interop: '6', app: () => sample, store: 'file' },
    { protocol: 'ietf-draft-03', interop: '5', app: () => s3Sample, store: 's3' },
  ] as const;

  it.each(cases)('$protocol (interop $interop), $store backend: 6 MiB in 1 MiB chunks, the draft on every request and answer', async ({ protocol, interop, app }) => {
    const file = await createFile(`${protocol}.bin`, 6 * MiB + 11);
    const { page, requests, responses } = await openPage(app(), `?protocol=${protocol}&chunkSize=1048576`);
    expect(await page.locator('#endpoint').textContent()).toContain(`interop ${interop}`);
    const created = page.waitForResponse((res) => res.request().method() === 'POST' && res.status() === 201);
    await page.setInputFiles('#file-input', file.path);
    const id = new URL((await (await created).headerValue('location'))!).pathname.split('/').pop()!;
    expect(await completed(app(), page, id)).toMatchObject({ name: file.name, size: file.size, sha256: file.sha256 });
    await sleep(100);
    const protocolRequests = requests.filter((request) => request.method() !== 'GET');
    expect(protocolRequests.map((request) => request.method())).toEqual(['POST', ...Array(7).fill('PATCH')]);
    for (const request of protocolRequests) {
      const headers = await request.allHeaders();
      expect([headers['upload-draft-interop-version'], headers['tus-resumable']]).toEqual([interop, undefined]);
    }
    for (const response of responses.filter((res) => res.request().method() !== 'GET')) {
      const headers = await response.allHeaders();
      expect([headers['upload-draft-interop-version'], headers['tus-resumable']]).toEqual([interop, undefined]);
    }
    await page.context().close();
  });
});
