/** The protocol version this server speaks (tus 1.0.0, "Core Protocol"). */
export const TUS_VERSION = '1.0.0';

/** Content type of a PATCH body and of a creation-with-upload body. */
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';

/** Every extension this module implements, in the order `Tus-Extension` lists them. */
export const TUS_EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'termination',
  'expiration',
  'checksum',
  'checksum-trailer',
  'concatenation',
  'concatenation-unfinished',
] as const;

export type TusExtension = (typeof TUS_EXTENSIONS)[number];

/** Default URL path of the tus routes. */
export const DEFAULT_TUS_PATH = '/files';
/** Default folder of the file backend. */
export const DEFAULT_UPLOAD_DIR = './uploads';
/** Default lifetime of an unfinished upload, renewed by every PATCH. */
export const DEFAULT_EXPIRATION_SECONDS = 86_400;
/**
 * Default limit of `Upload-Metadata`, in bytes: a file name, a type and a few fields of an app
 * take a few hundred; 4 KiB leaves room and stays below the 8 KiB a proxy such as nginx allows
 * one header line by default (`large_client_header_buffers`).
 */
export const DEFAULT_MAX_METADATA_BYTES = 4_096;
/** Default minimum interval between two `tus.post-receive` events of one upload. */
export const DEFAULT_POST_RECEIVE_INTERVAL_MS = 1_000;
/** How long a request waits for an upload held by another request before answering 423. */
export const DEFAULT_LOCK_TIMEOUT_MS = 3_000;
/** How long a lock goes unrenewed before it counts as abandoned (a crashed holder on another host). */
export const DEFAULT_LOCK_STALE_MS = 30_000;

/** A request whose body sent nothing for this long gives way to a newer request for its upload. */
export const STALLED_AFTER_MS = 1_000;

/** Default silence after which a PATCH body is ended (its bytes kept). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

/** Default of `shutdownTimeoutSeconds`: how long a shutdown waits for running PATCHes to save. */
export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 10;

/** Headers a browser client must be allowed to read (checklist 39). */
export const TUS_EXPOSED_HEADERS = [
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'Upload-Expires',
  'Tus-Version',
  'Tus-Resumable',
  'Tus-Max-Size',
  'Tus-Extension',
  'Tus-Checksum-Algorithm',
] as const;

/** Request headers a browser client must be allowed to send (checklist 40). */
export const TUS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'Upload-Checksum',
  'Tus-Resumable',
  'X-HTTP-Method-Override',
  'X-Requested-With',
  'X-Request-ID',
] as const;

/** Methods the tus routes answer. */
export const TUS_METHODS = ['POST', 'GET', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'] as const;
