import type { UploadMetadata } from './metadata.js';

/** How an upload takes part in concatenation (tus concatenation extension). */
export type UploadConcatInfo =
  | {
      type: 'partial';
      /** Finals created before this partial completed (concatenation-unfinished), completed with it. */
      finals?: string[];
    }
  | {
      type: 'final';
      /** Ids of the partial uploads, in order (a partial may repeat). */
      parts: string[];
      /** `Upload-Concat` as the client sent it, echoed on HEAD. */
      header: string;
    };

/**
 * The protocol of a request: tus 1.0 (`Tus-Resumable`) or the IETF draft "Resumable Uploads for
 * HTTP" (`Upload-Draft-Interop-Version`). The two are served side by side on the same routes.
 */
export type UploadProtocol = 'tus' | 'ietf-draft';

/** Where a backend keeps an upload's bytes. */
export type UploadStorageLocation =
  | { type: 'file'; path: string }
  | { type: 's3'; bucket: string; key: string }
  | { type: string; [detail: string]: unknown };

/** The state of one upload, as every backend reports it and every event carries it. */
export interface UploadInfo {
  /** URL-safe id, the last segment of the upload URL. */
  id: string;
  /** Bytes stored and verified so far. */
  offset: number;
  /** Declared total size; `null` while the length is deferred (creation-defer-length). */
  length: number | null;
  /** `Upload-Metadata`, decoded (UTF-8 values, keys in the client's order). */
  metadata: UploadMetadata;
  /** `Upload-Metadata` as stored, echoed on HEAD; `null` when none was sent. */
  metadataHeader: string | null;
  createdAt: Date;
  /** When an unfinished upload expires (expiration extension); `null` when it never does. */
  expiresAt: Date | null;
  /** When the last byte was stored; `null` while unfinished. Completed uploads never expire. */
  completedAt: Date | null;
  /** Concatenation role, `null` for an ordinary upload. */
  concat: UploadConcatInfo | null;
  /** Where the bytes live. */
  storage: UploadStorageLocation;
  /**
   * The protocol of the request that created the upload; absent for uploads created before the
   * field existed. Every request may then act on the upload, whatever its protocol.
   */
  protocol?: UploadProtocol;
}

/** What the module asks a backend to create. */
export type NewUpload = Omit<UploadInfo, 'offset' | 'completedAt' | 'storage'>;

/** True when an unfinished upload is past its expiry at `now`. */
export function isExpired(upload: UploadInfo, now: Date): boolean {
  return upload.completedAt === null && upload.expiresAt !== null && upload.expiresAt.getTime() <= now.getTime();
}

/** How an upload about to be created appears to `pre-create` listeners and `authorize`. */
export function uploadPreview(upload: NewUpload): UploadInfo {
  return { ...upload, offset: 0, completedAt: null, storage: { type: 'pending' } };
}
