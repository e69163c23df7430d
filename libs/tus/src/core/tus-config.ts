import type { TusExtension } from '../protocol/tus.constants.js';
import type { UploadMetadata } from '../protocol/metadata.js';
import type { UploadInfo } from '../protocol/upload-info.js';
import type { ComposedStorage } from '../storage/storage-composer.js';
import type { TusStorageBackend } from '../storage/tus-storage-backend.interface.js';
import type { TusMetrics } from './observability/tus-metrics.js';
import type { TusTracing } from './observability/tus-tracing.js';
import type { RequestContext } from './upload-commands.js';

/** What a request wants to do with an upload, as the `authorize` option hears it. */
export type TusIntent = 'create' | 'read' | 'write' | 'delete' | 'download';

/**
 * What the core reads of the module's options, validated and with defaults, built once at
 * start-up by the module. The front doors read their own part (`TusHttpConfig`).
 */
export interface TusConfig {
  /**
   * The backend the core calls: the configured one, behind `InstrumentedStorageBackend` when
   * metrics or tracing are on.
   */
  readonly backend: TusStorageBackend;
  /** {@link backend} composed with its capabilities (lock, concatenation, listing). */
  readonly store: ComposedStorage;
  /** The backend as configured (what the `TusStorageBackend` token gives the app). */
  readonly storage: TusStorageBackend;
  /** Prometheus metrics, or `NO_METRICS`. */
  readonly metrics: TusMetrics;
  /** OpenTelemetry spans, or none. */
  readonly tracing: TusTracing;
  /** Extensions served (and advertised by the tus front door). */
  readonly extensions: ReadonlySet<TusExtension>;
  /** The fixed maximum, advertised as `Tus-Max-Size`; undefined when none or computed per request. */
  readonly advertisedMaxSize: number | undefined;
  maxSize(context: RequestContext): Promise<number>;
  readonly expirationSeconds: number | null;
  readonly postReceiveIntervalMs: number;
  generateId(context: RequestContext): string | Promise<string>;
  readonly metadataOverride: ((context: RequestContext, metadata: UploadMetadata) => UploadMetadata | Promise<UploadMetadata>) | undefined;
  readonly authorize: ((context: RequestContext, intent: TusIntent, upload: UploadInfo) => boolean | Promise<boolean>) | undefined;
  readonly download: boolean;
  readonly downloadUnfinished: boolean;
  /** Milliseconds between expiry sweeps; undefined when the app cleans up itself. */
  readonly cleanupIntervalMs: number | undefined;
  /** Milliseconds a shutdown waits for running PATCHes to save. */
  readonly shutdownTimeoutMs: number;
}

/** Injection token of the resolved {@link TusConfig} (interface and token share the name). */
export const TusConfig = Symbol('TusConfig');
