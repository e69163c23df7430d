import type { UploadProtocol } from '../protocol/upload-info.js';

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

/** Default silence after which a PATCH body is ended (its bytes kept). */
export const DEFAULT_IDLE_TIMEOUT_SECONDS = 60;

/** Default of `shutdownTimeoutSeconds`: how long a shutdown waits for running PATCHes to save. */
export const DEFAULT_SHUTDOWN_TIMEOUT_SECONDS = 10;

/** Default of `protocols`: tus 1.0 and the IETF draft, side by side. */
export const DEFAULT_PROTOCOLS: readonly UploadProtocol[] = ['tus', 'ietf-draft'];
