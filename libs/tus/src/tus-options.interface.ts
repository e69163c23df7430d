import type { Type } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { TusExtension } from './tus.constants.js';
import type { UploadMetadata } from './protocol/metadata.js';
import type { TusStorageBackend } from './storage/tus-storage-backend.interface.js';

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
}
