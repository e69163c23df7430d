import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { randomBytes } from 'node:crypto';
import { eventually } from '../support/eventually.js';
import { MiB } from '../support/bytes.js';
import { uploadIdOf } from '../support/http/requests.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { runUpload } from '../support/http/tus-client.js';

// What an app's OpenTelemetry SDK set-up does (NodeSDK, NodeTracerProvider): a global tracer
// provider and a context manager; here with the SDK's in-memory exporter.
const exporter = new InMemorySpanExporter();
const contextManager = new AsyncLocalStorageContextManager().enable();
beforeAll(() => {
  context.setGlobalContextManager(contextManager);
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
});
afterAll(() => {
  trace.disable();
  context.disable();
});

const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

describe.each(TARGETS)('OpenTelemetry spans, $name', (target) => {
  let app: RunningApp;
  beforeAll(async () => {
    app = await startTusApp({}, { backend: target.backend, platform: target.platform });
  });
  afterAll(() => app?.close());
  beforeEach(() => exporter.reset());

  it('a span per tus request, with the upload id and offsets, and a child span per storage call', async () => {
    const data = randomBytes(2 * MiB);
    const { url } = await runUpload(data, { endpoint: app.url, chunkSize: MiB });
    const id = uploadIdOf(url);
    // A request's span ends when its response has closed, which the client may see a moment before.
    await eventually(async () => exporter.getFinishedSpans().filter((span) => span.name === 'tus PATCH').length === 2);
    const spans = exporter.getFinishedSpans();

    const post = spans.find((span) => span.name === 'tus POST')!;
    expect(post.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.response.status_code': 201 });
    const patches = spans.filter((span) => span.name === 'tus PATCH').sort((a, b) => Number(a.attributes['tus.upload.offset']) - Number(b.attributes['tus.upload.offset']));
    expect(patches.map((span) => span.attributes)).toEqual([
      expect.objectContaining({ 'tus.upload.id': id, 'tus.upload.offset': 0, 'tus.upload.new_offset': MiB, 'http.response.status_code': 204 }),
      expect.objectContaining({ 'tus.upload.id': id, 'tus.upload.offset': MiB, 'tus.upload.new_offset': 2 * MiB, 'http.response.status_code': 204 }),
    ]);

    const backend = target.backend.label;
    const creates = spans.filter((span) => span.name === 'tus.storage.create');
    expect(creates).toHaveLength(1);
    expect(creates[0]!.attributes).toMatchObject({ 'tus.storage.backend': backend, 'tus.upload.id': id });
    expect(parentOf(creates[0]!)).toBe(post.spanContext().spanId);
    expect(creates[0]!.spanContext().traceId).toBe(post.spanContext().traceId);

    for (const [index, patch] of patches.entries()) {
      const children = spans.filter((span) => parentOf(span) === patch.spanContext().spanId);
      expect(children.map((span) => span.name)).toEqual(expect.arrayContaining(['tus.storage.lock', 'tus.storage.get', 'tus.storage.write']));
      const write = children.find((span) => span.name === 'tus.storage.write')!;
      expect(write.attributes).toMatchObject({
        'tus.storage.backend': backend,
        'tus.storage.operation': 'write',
        'tus.upload.id': id,
        'tus.upload.offset': index * MiB,
        'tus.upload.new_offset': (index + 1) * MiB,
        'tus.upload.completed': index === 1,
      });
    }
  });

  it('leaves a client error (404) unmarked on the request span, and marks the failed storage call', async () => {
    const response = await fetch(`${app.url}/unknownUploadId`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    expect(response.status).toBe(404);
    await eventually(async () => exporter.getFinishedSpans().some((span) => span.name === 'tus HEAD'));
    const head = exporter.getFinishedSpans().find((span) => span.name === 'tus HEAD')!;
    expect(head.attributes).toMatchObject({ 'tus.upload.id': 'unknownUploadId', 'http.response.status_code': 404, 'tus.error.kind': 'UploadNotFoundError' });
    expect(head.status.code).not.toBe(2); // SpanStatusCode.ERROR: a 4xx is the client's, not a failure of the server
    const get = exporter.getFinishedSpans().find((span) => span.name === 'tus.storage.get')!;
    expect(parentOf(get)).toBe(head.spanContext().spanId);
    expect(get.status.code).toBe(2); // the storage call itself failed (not found)
  });
});
