import type { ModuleRef } from '@nestjs/core';
import {
  DEFAULT_EXPIRATION_SECONDS,
  DEFAULT_IDLE_TIMEOUT_SECONDS,
  DEFAULT_MAX_METADATA_BYTES,
  DEFAULT_POST_RECEIVE_INTERVAL_MS,
  DEFAULT_PROTOCOLS,
  DEFAULT_SHUTDOWN_TIMEOUT_SECONDS,
  DEFAULT_UPLOAD_DIR,
} from './tus-defaults.js';
import { TusOptionsError } from '../errors/tus.errors.js';
import type { TusModuleOptions } from './tus-options.interface.js';
import { validateTusOptions } from './tus-options.validation.js';
import { generateUploadId } from '../protocol/upload-id.js';
import { FileStorageBackend } from '../storage/file/file-storage.backend.js';
import { composeStorage } from '../storage/storage-composer.js';
import type { TusStorageBackend } from '../storage/tus-storage-backend.interface.js';
import { InstrumentedStorageBackend } from '../core/observability/instrumented-storage.backend.js';
import { createPrometheusMetrics } from '../core/observability/prometheus-metrics.js';
import { NO_METRICS } from '../core/observability/tus-metrics.js';
import { NO_TRACING, createTracing } from '../core/observability/tus-tracing.js';
import type { TusConfig } from '../core/tus-config.js';
import type { TusHttpConfig } from '../http/tus-http-config.js';

/**
 * Validates the options, creates, composes and prepares the backend: everything that can fail at
 * start-up fails here.
 */
export async function createTusConfig(options: TusModuleOptions, moduleRef: ModuleRef): Promise<TusConfig> {
  const problems = validateTusOptions(options ?? {});
  if (problems.length > 0) throw new TusOptionsError(problems);

  // The optional peers are imported here, once: a missing one fails the boot only when asked for.
  const metrics = options.metrics ? await createPrometheusMetrics(options.metrics) : NO_METRICS;
  const tracing = await createTracing(options.tracing);
  const storage = await resolveBackend(options, moduleRef);
  // Wrapped once, here, rather than instrumented backend by backend; with tracing available, even
  // before an SDK is registered (the wrapper then passes calls straight through).
  const backend = metrics === NO_METRICS && tracing === NO_TRACING ? storage : new InstrumentedStorageBackend(storage, metrics, tracing);
  const store = composeStorage(backend);
  const requested = options.extensions ?? store.extensions;
  const unsupported = requested.filter((extension) => !store.extensions.includes(extension));
  if (unsupported.length > 0) {
    throw new TusOptionsError([`the storage backend does not support: ${unsupported.join(', ')}`]);
  }
  await backend.init?.();

  const { maxSize } = options;
  const expirationSeconds = options.expirationSeconds === undefined ? DEFAULT_EXPIRATION_SECONDS : options.expirationSeconds;
  const extensions = new Set(requested);
  if (expirationSeconds === null) extensions.delete('expiration');
  // The app's hooks take the Node request; the core hands them the context a front door gave it,
  // which is that request (the core never looks inside).
  const hooks = options as unknown as Pick<TusConfig, 'authorize' | 'metadataOverride'> & {
    generateId?: TusConfig['generateId'];
    maxSize?: number | ((context: object) => number | Promise<number>);
  };
  return {
    backend,
    store,
    storage,
    metrics,
    tracing,
    extensions,
    advertisedMaxSize: typeof maxSize === 'number' ? maxSize : undefined,
    maxSize: async (context) => {
      const option = hooks.maxSize;
      if (option === undefined) return Number.MAX_SAFE_INTEGER;
      return typeof option === 'number' ? option : await option(context);
    },
    expirationSeconds,
    postReceiveIntervalMs: options.postReceiveIntervalMs ?? DEFAULT_POST_RECEIVE_INTERVAL_MS,
    generateId: hooks.generateId ?? generateUploadId,
    metadataOverride: hooks.metadataOverride,
    authorize: hooks.authorize,
    download: options.download ?? true,
    downloadUnfinished: options.downloadUnfinished ?? false,
    cleanupIntervalMs: options.cleanupIntervalSeconds ? options.cleanupIntervalSeconds * 1000 : undefined,
    shutdownTimeoutMs: (options.shutdownTimeoutSeconds ?? DEFAULT_SHUTDOWN_TIMEOUT_SECONDS) * 1000,
  };
}

/** The front doors' part of the options (validated by {@link createTusConfig}, which runs first). */
export function createTusHttpConfig(options: TusModuleOptions, path: string): TusHttpConfig {
  return {
    path,
    relativeLocation: options.relativeLocation ?? false,
    trustForwardedHeaders: options.trustForwardedHeaders ?? false,
    cors: options.cors,
    maxMetadataBytes: options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES,
    idleTimeoutMs: (options.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
    idleMinBytes: options.idleMinBytes ?? 0,
    protocols: new Set(options.protocols ?? DEFAULT_PROTOCOLS),
    interimResponses: options.ietf?.interimResponses ?? true,
  };
}

async function resolveBackend(options: TusModuleOptions, moduleRef: ModuleRef): Promise<TusStorageBackend> {
  const { storage } = options;
  if (storage === undefined) return new FileStorageBackend({ directory: options.uploadDir ?? DEFAULT_UPLOAD_DIR });
  if (typeof storage === 'function') return moduleRef.create(storage);
  return storage;
}
