import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { TusStorageService } from 'nestjs-tus';
import { eventually } from '../support/eventually.js';
import { MiB } from '../support/bytes.js';
import { createUpload, patchHeaders, send, TUS } from '../support/http/requests.js';
import { startHeldPatch } from '../support/http/held-patch.js';
import { metricsRoute, metricValue, scrape } from '../support/apps/prometheus.js';
import { TARGETS } from '../support/apps/targets.js';
import { fileBackend } from '../support/apps/backends.js';
import { ManualClock, PLATFORMS, startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';
import { STALLED_AFTER_MS } from '../../libs/tus/src/core/active-writes.js';

/** A tus app counting on a registry of its own, served at `/metrics`. */
async function startMeteredApp(target: (typeof TARGETS)[number], extra: { clock?: ManualClock; prefix?: string } = {}) {
  const registry = new Registry();
  const app = await startTusApp(
    { metrics: { registry, ...(extra.prefix === undefined ? {} : { prefix: extra.prefix }) }, expirationSeconds: 3600 },
    { backend: target.backend, platform: target.platform, imports: [metricsRoute(registry)], clock: extra.clock },
  );
  return { app, registry };
}

describe.each(TARGETS)('Prometheus metrics, $name', (target) => {
  const backend = target.backend.label;
  let app: RunningApp;

  beforeAll(async () => {
    ({ app } = await startMeteredApp(target));
  });
  afterAll(() => app?.close());

  it('count a scripted tus-js-client upload and the requests around it', async () => {
    const data = randomBytes(3 * MiB);
    const { url } = await runUpload(data, { endpoint: app.url, chunkSize: MiB, metadata: { filename: 'three.bin' } });
    expect((await send('HEAD', url, { headers: TUS })).status).toBe(200);
    expect((await send('HEAD', `${app.url}/unknownUploadId`, { headers: TUS })).status).toBe(404);
    expect((await send('PATCH', url.replace(/[^/]+$/, 'unknownUploadId'), { headers: patchHeaders(0), body: 'x' })).status).toBe(404);
    const doomed = await createUpload(app.url, { 'Upload-Length': 10 });
    expect((await send('PATCH', doomed, { headers: patchHeaders(5), body: 'abc' })).status).toBe(409);
    expect((await send('DELETE', doomed, { headers: TUS })).status).toBe(204);
    expect((await send('OPTIONS', app.url)).status).toBe(204);
    expect((await send('HEAD', url, {})).status).toBe(412); // refused by a guard, before any handler

    // The gauges drop when each response has closed, which the client may see a moment before.
    await eventually(async () => metricValue(await scrape(app.origin), 'tus_requests_active') === 0);
    const metrics = await scrape(app.origin);
    const value = (name: string, labels: Record<string, string> = {}) => metricValue(metrics, `tus_${name}`, labels);

    expect(value('requests_total', { method: 'POST', status: '201' })).toBe(2);
    expect(value('requests_total', { method: 'PATCH', status: '204' })).toBe(3);
    expect(value('requests_total', { method: 'PATCH', status: '404' })).toBe(1);
    expect(value('requests_total', { method: 'PATCH', status: '409' })).toBe(1);
    expect(value('requests_total', { method: 'HEAD', status: '200' })).toBe(1);
    expect(value('requests_total', { method: 'HEAD', status: '404' })).toBe(1);
    expect(value('requests_total', { method: 'HEAD', status: '412' })).toBe(1);
    expect(value('requests_total', { method: 'DELETE', status: '204' })).toBe(1);
    expect(value('requests_total', { method: 'OPTIONS', status: '204' })).toBe(1);
    expect(value('requests_total')).toBe(12);

    expect(value('errors_total', { kind: 'UploadNotFoundError', status: '404' })).toBe(2);
    expect(value('errors_total', { kind: 'OffsetMismatchError', status: '409' })).toBe(1);
    expect(value('errors_total', { kind: 'UnsupportedVersionError', status: '412' })).toBe(1);
    expect(value('errors_total')).toBe(4);

    expect(value('bytes_received_total')).toBe(3 * MiB);
    expect(value('uploads_created_total')).toBe(2);
    expect(value('uploads_finished_total')).toBe(1);
    expect(value('uploads_terminated_total')).toBe(1);
    expect(value('uploads_expired_total')).toBe(0);
    expect(value('requests_active')).toBe(0);
    expect(value('uploads_active')).toBe(0);
    expect(value('patches_active')).toBe(0);

    const storage = (operation: string, outcome = 'ok') => value('storage_call_duration_seconds_count', { backend, operation, outcome });
    expect(storage('create')).toBe(2);
    expect(storage('write')).toBe(3);
    expect(storage('remove')).toBe(1);
    expect(storage('get')).toBeGreaterThanOrEqual(6);
    expect(storage('get', 'error')).toBe(2); // the unknown ids
    // Each PATCH (the unknown id's too: the upload is read under the lock) and the DELETE took the lock.
    expect(storage('lock')).toBe(6);
    expect(value('lock_wait_seconds_count', { backend, outcome: 'ok' })).toBe(6);
    expect(value('lock_wait_seconds_count', { backend, outcome: 'error' })).toBe(0);
    expect(value('takeovers_total')).toBe(0);
  });
});

describe.each(TARGETS)('expired uploads in the metrics, $name', (target) => {
  it('counts the uploads deleteExpired() removed, as expired and terminated', async () => {
    const clock = new ManualClock();
    const { app } = await startMeteredApp(target, { clock, prefix: 'uploads_' });
    try {
      await createUpload(app.url, { 'Upload-Length': 10 });
      await createUpload(app.url, { 'Upload-Length': 10 });
      clock.advance(3601);
      expect(await app.app.get(TusStorageService).deleteExpired()).toHaveLength(2);
      const metrics = await scrape(app.origin);
      expect(metricValue(metrics, 'uploads_uploads_expired_total')).toBe(2);
      expect(metricValue(metrics, 'uploads_uploads_terminated_total')).toBe(2);
      expect(metricValue(metrics, 'uploads_uploads_created_total')).toBe(2);
      expect(metricValue(metrics, 'tus_uploads_created_total')).toBe(0); // the prefix replaced `tus_`
    } finally {
      await app.close();
    }
  });
});

describe.each(PLATFORMS)('running writes and takeovers in the metrics, file backend on %s', (platform) => {
  let app: RunningApp;
  afterEach(() => app?.close());

  it('shows a stalled PATCH as an active upload until a HEAD takes over from it', async () => {
    ({ app } = await startMeteredApp({ name: 'file', backend: fileBackend, platform }));
    const url = await createUpload(app.url, { 'Upload-Length': 100 });
    const held = startHeldPatch(url, 0, Buffer.from('abcde'), 100);
    await eventually(async () => {
      const metrics = await scrape(app.origin);
      return metricValue(metrics, 'tus_uploads_active') === 1 && metricValue(metrics, 'tus_bytes_received_total') === 5;
    });
    let metrics = await scrape(app.origin);
    expect(metricValue(metrics, 'tus_patches_active')).toBe(1);
    expect(metricValue(metrics, 'tus_requests_active', { method: 'PATCH' })).toBe(1);

    // Silent for longer than a body may be before a newer request takes over.
    await sleep(STALLED_AFTER_MS + 200);
    const head = await send('HEAD', url, { headers: TUS });
    expect(head.headers['upload-offset']).toBe('5');
    expect(await held.answer).toBeNull(); // its connection was ended, the bytes kept
    await eventually(async () => metricValue(await scrape(app.origin), 'tus_requests_active') === 0);
    metrics = await scrape(app.origin);
    expect(metricValue(metrics, 'tus_takeovers_total')).toBe(1);
    expect(metricValue(metrics, 'tus_uploads_active')).toBe(0);
    expect(metricValue(metrics, 'tus_patches_active')).toBe(0);
    expect(metricValue(metrics, 'tus_errors_total', { kind: 'interrupted' })).toBe(1);
  });
});
