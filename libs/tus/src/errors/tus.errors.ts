import { HttpException, type HttpExceptionOptions } from '@nestjs/common';

/**
 * Nest's `HttpException`, typed without its private `status` so that the catalogue keeps the public
 * `status` it has always had (backends and apps read it) while being an `HttpException` at run time.
 */
const HttpExceptionWithStatus = HttpException as unknown as new (
  response: string,
  status: number,
  options?: HttpExceptionOptions,
) => { [K in keyof HttpException]: HttpException[K] };

/**
 * The one catalogue of protocol errors. Handlers and backends throw these; on the tus routes
 * `TusExceptionFilter` turns each into the spec's status code with its one-line reason and the tus
 * headers. Each is an `HttpException` with that status and reason (`getStatus()`, `message`), so
 * wherever else Nest meets one (an app's own controller calling `TusStorageService`, a guard, a
 * filter of the app's) it answers that status too, not a 500.
 */
export class TusError extends HttpExceptionWithStatus {
  /** HTTP status the spec prescribes for this error (set by `HttpException`; `getStatus()` returns it too). */
  declare readonly status: number;

  constructor(status: number, message: string, options?: { cause?: unknown }) {
    super(message, status, options);
  }
}

/** 400: a header is missing or malformed, or the request contradicts the upload's state. */
export class InvalidRequestError extends TusError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 403: the request is not allowed on this upload (e.g. PATCH on a final concatenation). */
export class ForbiddenUploadError extends TusError {
  constructor(message: string) {
    super(403, message);
  }
}

/** 404: no such upload (never created, terminated, or cleaned up). */
export class UploadNotFoundError extends TusError {
  constructor(message = 'Upload not found') {
    super(404, message);
  }
}

/** 405: the method is not served here (its extension is disabled, or a POST on an upload lacks an override). */
export class MethodNotAllowedError extends TusError {
  /**
   * @param allow the methods the resource does serve, sent as `Allow` when given (RFC 9110, 15.5.6:
   *   a 405 names them).
   */
  constructor(
    message: string,
    readonly allow?: readonly string[],
  ) {
    super(405, message);
  }
}

/** 409: `Upload-Offset` does not match the stored offset, or a concurrent writer won. */
export class OffsetMismatchError extends TusError {
  /**
   * `offsets`, when known: the upload's offset and the request's (the IETF draft's 409 names both,
   * in `Upload-Offset` and in its problem details).
   */
  constructor(
    message: string,
    readonly offsets?: { readonly expected: number; readonly provided: number },
  ) {
    super(409, message);
  }
}

/** 410: the upload expired before it was completed (tus expiration extension). */
export class UploadExpiredError extends TusError {
  constructor() {
    super(410, 'Upload expired');
  }
}

/** 412: `Tus-Resumable` is missing or names a version this server does not speak. */
export class UnsupportedVersionError extends TusError {
  constructor(message = 'Unsupported or missing Tus-Resumable version') {
    super(412, message);
  }
}

/** 413: the upload or the chunk exceeds the declared length or the server's maximum. */
export class PayloadTooLargeError extends TusError {
  constructor(message: string) {
    super(413, message);
  }
}

/**
 * 431: `Upload-Metadata` is longer than `maxMetadataBytes`. The status Node itself answers when the
 * whole header block is too large (RFC 6585), so a client sees one status for one cause; 413 would
 * read as "the file is too large".
 */
export class MetadataTooLargeError extends TusError {
  constructor(limit: number) {
    super(431, `Upload-Metadata exceeds the maximum of ${limit} bytes`);
  }
}

/** 415: the body's content type is not `application/offset+octet-stream` (tus), or not `application/partial-upload` (IETF draft append). */
export class UnsupportedMediaTypeError extends TusError {
  constructor(message = 'Content-Type must be application/offset+octet-stream') {
    super(415, message);
  }
}

/** 423: another request holds the upload and did not release it in time. */
export class UploadLockedError extends TusError {
  constructor() {
    super(423, 'Upload is busy with another request, retry later');
  }
}

/** 460: the chunk's digest differs from `Upload-Checksum` (tus checksum extension). */
export class ChecksumMismatchError extends TusError {
  constructor() {
    super(460, 'Checksum mismatch');
  }
}

/**
 * 400 (IETF draft): the content does not match its `Content-Digest` (or `Repr-Digest`, RFC 9530);
 * the content is not appended. The drafts name no status ("signal the failure to the client"):
 * the client's content contradicts the client's own digest, a client error.
 */
export class DigestMismatchError extends TusError {
  constructor(field: string) {
    super(400, `${field} does not match the content: nothing was appended`);
  }
}

/**
 * 400 (IETF draft): two statements of the upload's length disagree (`Upload-Length`, or
 * `Upload-Complete: ?1` with `Content-Length`, against each other or the recorded length), or
 * bytes were sent past the recorded length: the draft's "inconsistent length" failure.
 */
export class InconsistentLengthError extends TusError {
  constructor(message: string) {
    super(400, message);
  }
}

/** 400 (IETF draft, interop 6 and 7): an append to an upload that is already complete. */
export class UploadCompletedError extends TusError {
  constructor() {
    super(400, 'The upload is already complete');
  }
}

/**
 * 507: the storage has no room for the request (disk full, quota exceeded: ENOSPC, EDQUOT).
 * Nothing past what the upload's offset counts is kept; tus clients retry 5xx, and the upload
 * resumes once space is freed.
 */
export class InsufficientStorageError extends TusError {
  constructor() {
    super(507, 'Insufficient storage: no space left for this upload on the server, retry later');
  }
}

/**
 * 503: the storage could not be reached (connection refused or cut, timed out) or answered with a
 * server error of its own. Nothing past what the upload's offset counts is kept; tus clients retry
 * 5xx, and the upload resumes once the storage is back.
 */
export class StorageUnavailableError extends TusError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(503, `Storage unavailable (${reason}), retry later`, options);
  }
}

/**
 * 503: the app is shutting down (`app.close()`, SIGTERM with shutdown hooks) and takes no new
 * bodies; tus clients retry 5xx and resume on the next process.
 */
export class ShuttingDownError extends TusError {
  constructor() {
    super(503, 'The server is shutting down, retry later');
  }
}

/** Thrown at start-up when the module options are invalid. */
export class TusOptionsError extends Error {
  constructor(problems: string[]) {
    super(`Invalid TusModule options:\n - ${problems.join('\n - ')}`);
    this.name = 'TusOptionsError';
  }
}

/**
 * The app asked `TusStorageService` for something the storage backend cannot do (a backend
 * without `list()` cannot be listed). A programming error, not a client's: not an HTTP exception.
 */
export class StorageCapabilityError extends Error {
  constructor(capability: string) {
    super(`The storage backend has no ${capability}() capability`);
    this.name = 'StorageCapabilityError';
  }
}

// Interruptions: not protocol errors. A body ended early keeps what it received (like a cut
// connection), and the client resumes; the exception filter answers them without logging.

/** A request asked to stop because a newer one for the same upload arrived while it was stalled. */
export class RequestSupersededError extends Error {
  constructor() {
    super('A newer request for this upload took over');
    this.name = 'RequestSupersededError';
  }
}

/**
 * A request ended because the app shuts down. Like a cut-off body (not a protocol error), it keeps
 * what it received: the client resumes on the next process.
 */
export class ShutdownInterruptionError extends Error {
  constructor() {
    super('The server is shutting down');
    this.name = 'ShutdownInterruptionError';
  }
}

/**
 * The body of a PATCH stopped arriving, or arrives too slowly to ever finish: the request ends
 * and, like a lost connection (and unlike a protocol error), keeps what it received.
 */
export class BodyIdleTimeoutError extends Error {
  constructor(ms: number, received?: number) {
    super(
      received === undefined
        ? `No request body received for ${ms} ms`
        : `Request body too slow: ${received} bytes in ${ms} ms`,
    );
    this.name = 'BodyIdleTimeoutError';
  }
}
