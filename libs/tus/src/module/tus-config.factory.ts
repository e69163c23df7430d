import type { ModuleRef } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { DEFAULT_EXPIRATION_SECONDS, DEFAULT_IDLE_TIMEOUT_SECONDS, DEFAULT_MAX_METADATA_BYTES, DEFAULT_POST_RECEIVE_INTERVAL_MS, DEFAULT_SHUTDOWN_TIMEOUT_SECONDS, DEFAULT_UPLOAD_DIR, type TusExtension } from '../protocol/tus.constants.js';
import { TusOptionsError } from '../errors/tus.errors.js';
import type { TusCorsOptions, TusIntent, TusModuleOptions } from './tus-options.interface.js';
import type { UploadInfo } from '../protocol/upload-info.js';
import { validateTusOptions } from './tus-options.validation.js';
import { generateUploadId } from '../protocol/upload-id.js';
import type { UploadMetadata } from '../protocol/metadata.js';
import { FileStorageBackend } from '../storage/file/file-storage.backend.js';
import type { TusStorageBackend } from '../storage/tus-storage-backend.interface.js';
import { InstrumentedStorageBackend } from '../core/observability/instrumented-storage.backend.js';
import { createPrometheusMetrics } from '../core/observability/prometheus-metrics.js';
import { NO_METRICS, type TusMetrics } from '../core/observability/tus-metrics.js';
import { createTracing, type TusTracing } from '../core/observability/tus-tracing.js';

/** The module's options after validation and defaults: what the rest of the module reads. */
export interface TusConfig {
  /** Route path, normalised (`/files`). */
  readonly path: string;
  /**
   * The backend the module calls: the configured one, behind {@link InstrumentedStorageBackend}
   * when metrics or tracing are on.
   */
  readonly backend: TusStorageBackend;
  /** The backend as configured (what the `TusStorageBackend` token gives the app). */
  readonly storage: TusStorageBackend;
  /** Prometheus metrics, or {@link NO_METRICS}. */
  readonly metrics: TusMetrics;
  /** OpenTelemetry spans, or none. */
  readonly tracing: TusTracing;
  /** Extensions advertised and served. */
  readonly extensions: ReadonlySet<TusExtension>;
  /** The fixed maximum, advertised as `Tus-Max-Size`; undefined when none or computed per request. */
  readonly advertisedMaxSize: number | undefined;
  maxSize(request: IncomingMessage): Promise<number>;
  readonly expirationSeconds: number | null;
  readonly relativeLocation: boolean;
  readonly trustForwardedHeaders: boolean;
  readonly postReceiveIntervalMs: number;
  generateId(request: IncomingMessage): string | Promise<string>;
  /** Longest `Upload-Metadata` accepted, in bytes. */
  readonly maxMetadataBytes: number;
  readonly metadataOverride: ((request: IncomingMessage, metadata: UploadMetadata) => UploadMetadata | Promise<UploadMetadata>) | undefined;
  readonly authorize: ((request: IncomingMessage, intent: TusIntent, upload: UploadInfo) => boolean | Promise<boolean>) | undefined;
  readonly download: boolean;
  readonly downloadUnfinished: boolean;
  /** Milliseconds between expiry sweeps; undefined when the app cleans up itself. */
  readonly cleanupIntervalMs: number | undefined;
  readonly cors: TusCorsOptions | undefined;
  /** Milliseconds of silence after which a PATCH body is ended; 0 disables. */
  readonly idleTimeoutMs: number;
  /** Bytes a PATCH body must deliver in each idle window; 0: only silence ends a body. */
  readonly idleMinBytes: number;
  /** Milliseconds a shutdown waits for running PATCHes to save. */
  readonly shutdownTimeoutMs: number;
}

/** Injection token of the resolved {@link TusConfig}. */
export const TUS_CONFIG = Symbol('TusConfig');

/** Validates the options, creates and prepares the backend: everything that can fail at start-up fails here. */
export async function createTusConfig(options: TusModuleOptions, path: string, moduleRef: ModuleRef): Promise<TusConfig> {
  const problems = validateTusOptions(options ?? {});
  if (problems.length > 0) throw new TusOptionsError(problems);

  // The optional peers are imported here, once: a missing one fails the boot only when asked for.
  const metrics = options.metrics ? await createPrometheusMetrics(options.metrics) : NO_METRICS;
  const tracing = await createTracing(options.tracing);
  const storage = await resolveBackend(options, moduleRef);
  const requested = options.extensions ?? storage.extensions;
  const unsupported = requested.filter((extension) => !storage.extensions.includes(extension));
  if (unsupported.length > 0) {
    throw new TusOptionsError([`the storage backend does not support: ${unsupported.join(', ')}`]);
  }
  // Wrapped once, here, rather than instrumented backend by backend.
  const backend = metrics === NO_METRICS && !tracing.enabled ? storage : new InstrumentedStorageBackend(storage, metrics, tracing);
  await backend.init?.();

  const { maxSize } = options;
  const expirationSeconds = options.expirationSeconds === undefined ? DEFAULT_EXPIRATION_SECONDS : options.expirationSeconds;
  const extensions = new Set(requested);
  if (expirationSeconds === null) extensions.delete('expiration');
  return {
    path,
    backend,
    storage,
    metrics,
    tracing,
    extensions,
    advertisedMaxSize: typeof maxSize === 'number' ? maxSize : undefined,
    maxSize: async (request) =>
      maxSize === undefined ? Number.MAX_SAFE_INTEGER : typeof maxSize === 'number' ? maxSize : await maxSize(request),
    expirationSeconds,
    relativeLocation: options.relativeLocation ?? false,
    trustForwardedHeaders: options.trustForwardedHeaders ?? false,
    postReceiveIntervalMs: options.postReceiveIntervalMs ?? DEFAULT_POST_RECEIVE_INTERVAL_MS,
    generateId: options.generateId ?? generateUploadId,
    metadataOverride: options.metadataOverride,
    maxMetadataBytes: options.maxMetadataBytes ?? DEFAULT_MAX_METADATA_BYTES,
    authorize: options.authorize,
    download: options.download ?? true,
    downloadUnfinished: options.downloadUnfinished ?? false,
    cleanupIntervalMs: options.cleanupIntervalSeconds ? options.cleanupIntervalSeconds * 1000 : undefined,
    cors: options.cors,
    idleTimeoutMs: (options.idleTimeoutSeconds ?? DEFAULT_IDLE_TIMEOUT_SECONDS) * 1000,
    idleMinBytes: options.idleMinBytes ?? 0,
    shutdownTimeoutMs: (options.shutdownTimeoutSeconds ?? DEFAULT_SHUTDOWN_TIMEOUT_SECONDS) * 1000,
  };
}

async function resolveBackend(options: TusModuleOptions, moduleRef: ModuleRef): Promise<TusStorageBackend> {
  const { storage } = options;
  if (storage === undefined) return new FileStorageBackend({ directory: options.uploadDir ?? DEFAULT_UPLOAD_DIR });
  if (typeof storage === 'function') return moduleRef.create(storage);
  return storage;
}
