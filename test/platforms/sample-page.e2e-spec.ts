import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { CompletedUpload } from '../../apps/sample/src/upload-registry.service.js';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Browser, Page, Request } from 'playwright-core';
import { eventually } from '../support/eventually.js';
import { MiB } from '../support/bytes.js';
import { offsetOf, uploadIdOf } from '../support/http/requests.js';
import { launchChromium } from '../support/servers/chromium.js';
import { openSamplePage, recordEndpointTraffic, type TestFile, writeTestFile } from '../support/servers/sample-page.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv, sampleS3Env } from '../support/servers/s3-server.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

// The sample app's upload page (apps/sample/public), built and run as `npm start` runs it, driven
// by headless Chromium through tus-js-client: the page a new user judges the module by. One
// sample stores in a folder, a second one in S3 (the RGW the jest globalSetup started).

/** An entry of the sample's `GET /api/uploads`. */
type ListedUpload = CompletedUpload;

describe.each(PLATFORMS)('the sample upload page in Chromium, the sample on %s', (platform) => {
  let work: string;
  let uploadDir: string;
  let sample: SampleProcess;
  let s3Sample: SampleProcess;
  let s3: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };
  let browser: Browser;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'nestjs-tus-browser-'));
    uploadDir = join(work, 'uploads');
    await mkdir(join(work, 'files'));
    const server = s3ServerFromEnv();
    s3 = createTestS3Client(server);
    bucket = await createTestBucket(s3, 'browser');
    [sample, s3Sample, browser] = await Promise.all([
      startSample({ UPLOAD_DIR: uploadDir, HTTP_ADAPTER: platform }),
      startSample({ ...sampleS3Env(server, bucket.bucket), HTTP_ADAPTER: platform }),
      launchChromium(),
    ]);
    // Room for a first-time `apt-get install chromium` (test/support/servers/chromium.ts).
  }, 900_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.all([sample?.stop(), s3Sample?.stop()]);
    await bucket?.dispose();
    s3?.destroy();
    if (work) await rm(work, { recursive: true, force: true });
  });

  const createFile = (name: string, size: number): Promise<TestFile> => writeTestFile(join(work, 'files'), name, size);

  /** A page of `app` in a fresh browser context (its own localStorage), ready to take files. */
  const openPage = (app: SampleProcess, query = ''): Promise<Page> => openSamplePage(browser, app.url, query, pageErrors, { width: 1000, height: 760 });

  /** Every request the page sends to the tus endpoint, in order. */
  const recordTusRequests = (app: SampleProcess, page: Page): Request[] => recordEndpointTraffic(page, app.url).requests;

  /** The id of the next upload the page creates. */
  async function nextCreatedId(page: Page): Promise<string> {
    const response = await page.waitForResponse((res) => res.request().method() === 'POST' && res.status() === 201);
    return uploadIdOf((await response.headerValue('location'))!);
  }

  /** Limits the page's upload bandwidth (DevTools network emulation), so an upload lasts long enough to interrupt. */
  async function throttle(page: Page, bytesPerSecond: number): Promise<void> {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: bytesPerSecond,
    });
  }

  const serverOffset = (app: SampleProcess, id: string): Promise<number> => offsetOf(`${app.url}/${id}`);

  /** Waits for the upload's row, which the page adds from the server-sent event, and returns its JSON entry. */
  async function completedUpload(app: SampleProcess, page: Page, id: string): Promise<ListedUpload> {
    await page.locator(`tr[data-id="${id}"]`).waitFor({ timeout: 30_000 });
    const list = (await (await fetch(`${new URL(app.url).origin}/api/uploads`)).json()) as ListedUpload[];
    const upload = list.find((entry) => entry.id === id);
    if (upload === undefined) throw new Error(`upload ${id} is on the page but not in GET /api/uploads`);
    return upload;
  }

  function patchOffsets(requests: Request[]): number[] {
    return requests.filter((r) => r.method() === 'PATCH').map((r) => Number(r.headers()['upload-offset']));
  }

  it('uploads a 30 MiB file: the server hashes the same bytes it stored, and the download link returns them', async () => {
    const file = await createFile('thirty.bin', 30 * MiB);
    const page = await openPage(sample);
    const created = nextCreatedId(page);
    await page.setInputFiles('#file-input', file.path);
    const id = await created;

    const listed = await completedUpload(sample, page, id);
    expect(listed).toMatchObject({ name: file.name, size: file.size, sha256: file.sha256 });
    expect(await sha256Of(join(uploadDir, id))).toBe(file.sha256);
    const row = page.locator(`tr[data-id="${id}"]`);
    expect(await row.locator('td.sha').getAttribute('data-sha256')).toBe(file.sha256);
    expect(await row.locator('td.name').textContent()).toBe(file.name);

    const [download] = await Promise.all([page.waitForEvent('download'), row.locator('a').click()]);
    expect(download.suggestedFilename()).toBe(file.name);
    expect(await sha256Of(await download.path())).toBe(file.sha256);
    await page.context().close();
  });

  /**
   * Uploads `file` to `app` slowly in 1 MiB chunks, reloads the page once the server holds two of
   * them, picks the file again, and checks that the upload continued from the server's offset.
   * Returns the upload's id, its list entry and the page, still open on the completed list.
   */
  async function uploadAcrossReload(app: SampleProcess, file: TestFile): Promise<{ id: string; listed: ListedUpload; page: Page }> {
    const page = await openPage(app, '?chunkSize=1048576');
    await throttle(page, 2 * MiB);
    const requests = recordTusRequests(app, page);
    const created = nextCreatedId(page);
    await page.setInputFiles('#file-input', file.path);
    const id = await created;

    await eventually(async () => (await serverOffset(app, id)) >= 2 * MiB, 15_000, 'two chunks are stored');
    const offsetBeforeReload = await serverOffset(app, id);
    expect(offsetBeforeReload).toBeLessThan(file.size);
    await page.reload();
    await page.locator('body[data-ready]').waitFor();
    // The page remembers the upload and asks for the file again.
    const interrupted = page.locator(`li.upload[data-name="${file.name}"][data-state="interrupted"]`);
    expect(await interrupted.count()).toBe(1);
    expect(Number(await interrupted.locator('.bar').getAttribute('aria-valuenow'))).toBeGreaterThan(0);
    // Counted from here: the old page may have sent one more chunk as it unloaded.
    const picked = requests.length;
    await page.setInputFiles('#file-input', file.path);
    await interrupted.waitFor({ state: 'detached' });

    const listed = await completedUpload(app, page, id);
    const afterReload = requests.slice(picked);
    expect(afterReload.filter((r) => r.method() === 'POST')).toEqual([]);
    expect(afterReload.every((r) => r.url().endsWith(`/${id}`))).toBe(true);
    expect(afterReload[0]!.method()).toBe('HEAD');
    const [firstPatchOffset] = patchOffsets(afterReload);
    expect(firstPatchOffset).toBeGreaterThanOrEqual(offsetBeforeReload);
    expect(firstPatchOffset).toBeGreaterThan(0);
    expect(listed).toMatchObject({ name: file.name, size: file.size, sha256: file.sha256 });
    return { id, listed, page };
  }

  it('resumes after a reload from the offset the server has, not from zero', async () => {
    const file = await createFile('reloaded.bin', 8 * MiB);
    const { id, page } = await uploadAcrossReload(sample, file);
    expect(await sha256Of(join(uploadDir, id))).toBe(file.sha256);
    await page.context().close();
  });

  it('works the same on the S3 backend: resumes after a reload, hashes and serves the bytes', async () => {
    const file = await createFile('stored-in-s3.bin', 8 * MiB);
    const { id, page } = await uploadAcrossReload(s3Sample, file);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`tr[data-id="${id}"] a`).click(),
    ]);
    expect(await sha256Of(await download.path())).toBe(file.sha256);
    await page.context().close();
  });

  it('pauses (no bytes move) and resumes where it stopped', async () => {
    const file = await createFile('paused.bin', 6 * MiB);
    const page = await openPage(sample, '?chunkSize=1048576');
    await throttle(page, 2 * MiB);
    const requests = recordTusRequests(sample, page);
    const created = nextCreatedId(page);
    await page.setInputFiles('#file-input', file.path);
    const id = await created;
    const item = page.locator(`li.upload[data-name="${file.name}"]`);

    await eventually(async () => (await serverOffset(sample, id)) >= MiB, 15_000, 'a chunk is stored');
    await item.getByRole('button', { name: 'Pause' }).click();
    await page.locator(`li.upload[data-name="${file.name}"][data-state="paused"]`).waitFor();
    await sleep(300); // what the aborted request had sent lands
    const pausedAt = await serverOffset(sample, id);
    const whilePaused = requests.length;
    await sleep(1000);
    expect(await serverOffset(sample, id)).toBe(pausedAt);
    expect(patchOffsets(requests.slice(whilePaused))).toEqual([]);
    expect(pausedAt).toBeGreaterThan(0);
    expect(pausedAt).toBeLessThan(file.size);

    await item.getByRole('button', { name: 'Resume' }).click();
    const listed = await completedUpload(sample, page, id);
    expect(patchOffsets(requests.slice(whilePaused))[0]).toBe(pausedAt);
    expect(listed.sha256).toBe(file.sha256);
    await page.context().close();
  });

  it('uploads several files at once, and lists each with its own hash', async () => {
    const files = await Promise.all([
      createFile('alpha.bin', 3 * MiB),
      createFile('beta.bin', 2 * MiB),
      createFile('naïve résumé 2026.txt', 256 * 1024),
    ]);
    const page = await openPage(sample);
    const ids: string[] = [];
    page.on('response', (res) => {
      const location = res.request().method() === 'POST' ? res.headers()['location'] : undefined;
      if (location) ids.push(uploadIdOf(location));
    });
    await page.setInputFiles('#file-input', files.map((file) => file.path));
    await eventually(async () => ids.length === files.length, 15_000, 'three uploads are created');

    const listed = await Promise.all(ids.map((id) => completedUpload(sample, page, id)));
    expect(listed.map(({ name, size, sha256 }) => ({ name, size, sha256 })).sort(byName)).toEqual(
      files.map(({ name, size, sha256 }) => ({ name, size, sha256 })).sort(byName),
    );
    await page.locator('#active-section').waitFor({ state: 'hidden' });

    // A name that is not ASCII comes back intact through Content-Disposition's filename*.
    const unicode = listed.find((upload) => upload.name === files[2]!.name)!;
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.locator(`tr[data-id="${unicode.id}"] a`).click(),
    ]);
    expect(download.suggestedFilename()).toBe(files[2]!.name);
    expect(await sha256Of(await download.path())).toBe(files[2]!.sha256);
    await page.context().close();
  });

  it('looks right: a screenshot mid-upload, over the list of completed uploads', async () => {
    const file = await createFile('holiday-video.mp4', 24 * MiB);
    const page = await openPage(sample, '?chunkSize=4194304');
    await throttle(page, 6 * MiB);
    const created = nextCreatedId(page);
    await page.setInputFiles('#file-input', file.path);
    const id = await created;
    await eventually(async () => (await serverOffset(sample, id)) >= 8 * MiB, 15_000, 'a third of it is stored');
    await page.locator('li.upload .eta:not(:empty)').waitFor();

    // docs/sample-page.png is the README's picture (taken on Express): written when missing or
    // with UPDATE_SCREENSHOT=1, so that an ordinary test run leaves the working tree clean.
    const docs = resolve('docs');
    const readmePicture = platform === 'express' && (!existsSync(join(docs, 'sample-page.png')) || process.env.UPDATE_SCREENSHOT === '1');
    const target = readmePicture ? join(docs, 'sample-page.png') : join(work, `sample-page-${platform}.png`);
    await mkdir(docs, { recursive: true });
    await page.screenshot({ path: target, fullPage: true });
    expect(existsSync(target)).toBe(true);
    await page.context().close();
  });

  it('raised no error on any page', () => {
    expect(pageErrors).toEqual([]);
  });
});

function byName(a: { name: string }, b: { name: string }): number {
  return a.name.localeCompare(b.name);
}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}
