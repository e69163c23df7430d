import type { UploadProtocol } from '../protocol/upload-info.js';
import type { TusCorsOptions } from './cors.js';

/** What the front doors read of the module's options, validated and with defaults. */
export interface TusHttpConfig {
  /** Route path, normalised (`/files`). */
  readonly path: string;
  readonly relativeLocation: boolean;
  readonly trustForwardedHeaders: boolean;
  readonly cors: TusCorsOptions | undefined;
  /** Longest `Upload-Metadata` accepted, in bytes. */
  readonly maxMetadataBytes: number;
  /** Milliseconds of silence after which a request body is ended; 0 disables. */
  readonly idleTimeoutMs: number;
  /** Bytes a request body must deliver in each idle window; 0: only silence ends a body. */
  readonly idleMinBytes: number;
  /** The protocols served: a request that names a known interop version goes to the draft's front door when `ietf-draft` is here. */
  readonly protocols: ReadonlySet<UploadProtocol>;
  /** Whether the draft's front door sends `104 (Upload Resumption Supported)`. */
  readonly interimResponses: boolean;
}

/** Injection token of the resolved {@link TusHttpConfig} (interface and token share the name). */
export const TusHttpConfig = Symbol('TusHttpConfig');
