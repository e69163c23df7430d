import type { CanActivate, Type } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { TusExtension } from '../protocol/tus.constants.js';
import type { UploadMetadata } from '../protocol/metadata.js';
import type { TusStorageBackend } from '../storage/tus-storage-backend.interface.js';
import type { UploadInfo, UploadProtocol } from '../protocol/upload-info.js';
import type { TusIntent } from '../core/tus-config.js';
import type { TusMetricsOptions } from '../core/observability/tus-metrics.js';
import type { TusCorsOptions } from '../http/cors.js';

export type { TusIntent, TusMetricsOptions, TusCorsOptions };
export type { TusMetricsRegistry } from '../core/observability/tus-metrics.js';

/** Options of `TusModule.forRoot()` / the factory of `forRootAsync()`. Validated once, at start-up. */
export interface TusModuleOptions {
  /**
   * Folder of the default file backend. Ignored when `storage` is set.
   * @default './uploads'
   */
  uploadDir?: string;
  /**
   * Largest upload accepted, in bytes, or a function of the creation request returning it.
   * A number is advertised as `Tus-Max-Size`. Larger uploads get 413 (tus 1.0.0, creation).
   * @default no limit
   */
  maxSize?: number | ((request: IncomingMessage) => number | Promise<number>);
  /**
   * Lifetime of an unfinished upload, renewed by every PATCH; `null` never expires uploads.
   * Expired uploads answer 410 (tus expiration extension). Completed uploads never expire.
   * @default 86400
   */
  expirationSeconds?: number | null;
  /**
   * Extensions to enable; each must be one the storage backend supports.
   * @default every extension the backend supports
   */
  extensions?: TusExtension[];
  /**
   * Storage backend: an instance, or a class the module instantiates with Nest's injector
   * (so it can inject, e.g., an `S3Client` from an imported module).
   * @default new FileStorageBackend({ directory: uploadDir })
   */
  storage?: TusStorageBackend | Type<TusStorageBackend>;
  /**
   * Rewrites the metadata of a new upload before it is created (after `Upload-Metadata` is
   * parsed, before `tus.pre-create`). HEAD then echoes the rewritten metadata.
   */
  metadataOverride?: (request: IncomingMessage, metadata: UploadMetadata) => UploadMetadata | Promise<UploadMetadata>;
  /**
   * Longest `Upload-Metadata` header a creation may carry, in bytes (as sent, base64 included);
   * longer ones get 431. Metadata is stored with every upload and echoed by every HEAD. Node's own
   * limit on the whole header block (`--max-http-header-size`, 16 KiB) applies first.
   * @default 4096
   */
  maxMetadataBytes?: number;
  /**
   * Answer `Location` with a path only (`/files/<id>`) instead of an absolute URL.
   * @default false
   */
  relativeLocation?: boolean;
  /**
   * Build `Location` from `Forwarded` / `X-Forwarded-Host` / `X-Forwarded-Proto`. Enable only
   * behind a proxy that sets them: a client could otherwise choose the host of its URLs.
   * @default false
   */
  trustForwardedHeaders?: boolean;
  /**
   * Id of a new upload: URL-safe (`[A-Za-z0-9_-]`, at most 200 characters) and unique.
   * @default 128 random bits, base64url
   */
  generateId?: (request: IncomingMessage) => string | Promise<string>;
  /**
   * Minimum interval between two `tus.post-receive` events of one upload while its bytes flow
   * (one more is always sent when a request ends).
   * @default 1000
   */
  postReceiveIntervalMs?: number;
  /**
   * Decides whether a request may act on an upload: `create` (sees the new upload's metadata,
   * after `metadataOverride`), `read` (HEAD), `write` (PATCH), `delete`, `download` (GET). Return
   * false for a 403, or throw an `HttpException` for another status; a denied request touches nothing.
   */
  authorize?: (request: IncomingMessage, intent: TusIntent, upload: UploadInfo) => boolean | Promise<boolean>;
  /**
   * Serve `GET <path>/<id>`: a completed upload's bytes, with `Range`, `ETag` and conditional requests.
   * @default true
   */
  download?: boolean;
  /**
   * Also serve the bytes received so far of an unfinished upload (else 404 until complete).
   * @default false
   */
  downloadUnfinished?: boolean;
  /**
   * Run `TusStorageService.deleteExpired()` every this many seconds inside the app (one run at a
   * time; failures are logged, never fatal). Off when unset.
   */
  cleanupIntervalSeconds?: number;
  /** CORS headers on every tus response, and preflight answers. Off when unset. */
  cors?: TusCorsOptions;
  /**
   * A PATCH whose body sends nothing for this long is ended; the bytes received so far are kept.
   * `0` disables it.
   * @default 60
   */
  idleTimeoutSeconds?: number;
  /**
   * A PATCH whose body delivers fewer than this many bytes within any `idleTimeoutSeconds` is
   * ended too, keeping its bytes: a client trickling a byte a second would otherwise hold its
   * upload, its lock and a connection for hours (like Apache mod_reqtimeout's `MinRate`). Windows
   * in which the server itself held the body back (slow storage) do not count. `0`: only silence
   * ends a body.
   * @default 0
   */
  idleMinBytes?: number;
  /**
   * On shutdown (`app.close()`, or SIGTERM with `app.enableShutdownHooks()`), the module stops
   * taking new bodies (503), ends the PATCHes still running, keeping every byte they received, and
   * waits at most this long for them to save and release their locks before Nest goes on.
   * Clients resume on the next process at the exact offset.
   * @default 10
   */
  shutdownTimeoutSeconds?: number;
  /**
   * Prometheus metrics through `prom-client` (an optional peer: `npm i prom-client`): requests by
   * method and status, errors by kind, bytes received, uploads created, finished, terminated and
   * expired, running requests and writes, lock waits, takeovers, storage call durations. `true`
   * registers them on prom-client's default registry; `{ registry, prefix }` chooses. Off when unset.
   * @default false
   */
  metrics?: boolean | TusMetricsOptions;
  /**
   * OpenTelemetry spans through `@opentelemetry/api` (an optional peer): one per tus request and
   * one per storage call, with the upload id and offset. They go where the app's OpenTelemetry SDK
   * sends them; while no SDK has registered a tracer provider, none is started. `true` requires the package (start-up
   * fails without it); `false` turns them off.
   * @default true when `@opentelemetry/api` is installed, else false
   */
  tracing?: boolean;
  /**
   * The protocols served on the same path, backends, events and authorization: tus 1.0
   * (`Tus-Resumable`) and the IETF draft "Resumable Uploads for HTTP" (interop versions 3 to 8,
   * told apart by `Upload-Draft-Interop-Version`). A request that names no known interop version
   * is a tus request; with `'tus'` left out it gets a 400.
   * @default ['tus', 'ietf-draft']
   */
  protocols?: UploadProtocol[];
  /** How the IETF draft is served; see {@link TusIetfOptions}. */
  ietf?: TusIetfOptions;
}

/** Options of the IETF draft front door (`ietf`). */
export interface TusIetfOptions {
  /**
   * Send the `104 (Upload Resumption Supported)` interim response that announces a new upload's
   * URL while its body still arrives (HTTP/1.1 only). Turn it off behind a proxy that mishandles
   * interim responses other than 100 and 103: nginx up to at least 1.22 takes the 104 for the
   * final response (see the README, "The 104 and proxies").
   * @default true
   */
  interimResponses?: boolean;
}

/** Options that shape the module's routes, so they are known synchronously, even in `forRootAsync`. */
export interface TusModuleExtras {
  /**
   * URL path of the tus routes (uploads live at `<path>/<id>`). A global prefix is added in front.
   * @default '/files'
   */
  path?: string;
  /**
   * Register the module globally, so `TusStorageService` can be injected everywhere.
   * @default false
   */
  isGlobal?: boolean;
  /**
   * Guards run before every tus route except OPTIONS (a CORS preflight carries no credentials).
   * Instances, or classes the injector creates. An extra, since routes exist before async options.
   */
  guards?: Array<CanActivate | Type<CanActivate>>;
}
