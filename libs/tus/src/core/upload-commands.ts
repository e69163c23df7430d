import type { UploadMetadata } from '../protocol/metadata.js';
import type { UploadProtocol } from '../protocol/upload-info.js';
import type { UploadBody } from './upload-body.js';

/**
 * The request a command came from, opaque to the core: handed as it is to the app's hooks
 * (`authorize`, `maxSize`, `generateId`, `metadataOverride`) and to `pre-` event listeners. A
 * front door passes its adapter's Node request; the app's own calls through `TusStorageService`
 * pass null.
 */
export type RequestContext = object;

/** How a new upload takes part in concatenation, as a front door parsed it. */
export type ConcatRequest = { type: 'partial' } | { type: 'final'; partIds: string[]; header: string };

/** Create an upload (tus POST, the IETF draft's upload creation). */
export interface CreateUploadCommand {
  /** Metadata as the client sent it, decoded, and the raw header echoed on HEAD (null when none). */
  readonly metadata: UploadMetadata;
  readonly metadataHeader: string | null;
  /** Declared total length; null when deferred. Ignored for a final upload (its partials decide). */
  readonly length: number | null;
  readonly concat?: ConcatRequest;
  /** The first chunk (creation-with-upload), or null. */
  readonly body: UploadBody | null;
  readonly context: RequestContext;
  /** The protocol of the front door that built the command, kept with the upload (`UploadInfo.protocol`). */
  readonly protocol?: UploadProtocol;
}

/** Append a chunk at `offset` (tus PATCH), or, with no body, finish an upload whose bytes are all stored. */
export interface AppendCommand {
  readonly id: string;
  readonly offset: number;
  /** A length declared now for a deferred-length upload (or repeated: it must match). */
  readonly length?: number;
  readonly body: UploadBody | null;
  readonly context: RequestContext;
}
