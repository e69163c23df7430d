import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { MiB } from '../support/bytes.js';
import { metricValue, scrape } from '../support/apps/prometheus.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';

/** The sample with TUS_METRICS=1: the module's metrics beside the process's own, from @willsoto/nestjs-prometheus. */
describe.each(PLATFORMS)('the sample app’s /metrics on %s', (platform) => {
  let sample: SampleProcess;
  let plain: SampleProcess;
  let dir: string;
  const originOf = (process: SampleProcess) => new URL(process.url).origin;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-sample-metrics-'));
    [sample, plain] = await Promise.all([
      startSample({ HTTP_ADAPTER: platform, UPLOAD_DIR: join(dir, 'metered'), TUS_METRICS: '1' }),
      startSample({ HTTP_ADAPTER: platform, UPLOAD_DIR: join(dir, 'plain') }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([sample?.stop(), plain?.stop()]);
    await rm(dir, { recursive: true, force: true });
  });

  it('counts an upload, on the default registry that PrometheusModule serves', async () => {
    await runUpload(randomBytes(2 * MiB + 7), { endpoint: sample.url, chunkSize: MiB });
    await eventually(async () => metricValue(await scrape(originOf(sample)), 'tus_requests_active') === 0);
    const metrics = await scrape(originOf(sample));
    expect(metricValue(metrics, 'tus_uploads_created_total')).toBe(1);
    expect(metricValue(metrics, 'tus_uploads_finished_total')).toBe(1);
    expect(metricValue(metrics, 'tus_bytes_received_total')).toBe(2 * MiB + 7);
    expect(metricValue(metrics, 'tus_requests_total', { method: 'PATCH', status: '204' })).toBe(3);
    expect(metricValue(metrics, 'tus_storage_call_duration_seconds_count', { backend: 'file', operation: 'write', outcome: 'ok' })).toBe(3);
    // PrometheusModule's default metrics: one registry for the app's and the module's.
    expect(metrics.some((sample) => sample.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('serves no /metrics without TUS_METRICS', async () => {
    expect((await fetch(`${originOf(plain)}/metrics`)).status).toBe(404);
  });
});
