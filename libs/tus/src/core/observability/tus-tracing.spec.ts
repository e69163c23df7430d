import { afterEach, describe, expect, it } from '@jest/globals';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NO_METRICS } from './tus-metrics.js';
import { InstrumentedStorageBackend } from './instrumented-storage.backend.js';
import { NO_TRACING, createTracing } from './tus-tracing.js';
import type { TusStorageBackend } from '../../storage/tus-storage-backend.interface.js';

/**
 * With `@opentelemetry/api` installed but no SDK registered, the module records no span: the API's
 * spans would be no-ops, and wrapping each request and storage call in one still costs CPU. An SDK
 * registered later (after the app started) is picked up.
 */
describe('tracing without an SDK', () => {
  afterEach(() => trace.disable());

  it('is off while no tracer provider is registered, on once one is, off again without it', async () => {
    const tracing = await createTracing(undefined);
    expect(tracing).not.toBe(NO_TRACING);
    expect(tracing.enabled).toBe(false);
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    expect(tracing.enabled).toBe(true);
    trace.disable();
    expect(tracing.enabled).toBe(false);
  });

  it('the storage decorator passes calls straight through until an SDK is registered, then spans them', async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await createTracing(undefined);
    const get = async (id: string) => ({ id }) as never;
    const backend = new InstrumentedStorageBackend({ get } as unknown as TusStorageBackend, NO_METRICS, tracing);
    await backend.get('a');
    trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
    await backend.get('b');
    expect(exporter.getFinishedSpans().map((span) => [span.name, span.attributes['tus.upload.id']])).toEqual([['tus.storage.get', 'b']]);
  });

  it('tracing: false is off whatever is registered', async () => {
    trace.setGlobalTracerProvider(new BasicTracerProvider());
    expect((await createTracing(false)).enabled).toBe(false);
  });
});
