import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable, type Transform } from 'node:stream';
import type { UploadBody } from '../core/upload-body.js';
import type { ChecksumVerifier } from './checksum-verifier.js';
import { watchIdleBody } from './idle-timeout.js';
import { header } from './raw-request.js';

/** How a front door watches a body: the idle timeout and the minimum rate (`TusHttpConfig`). */
export interface IdleRule {
  readonly idleTimeoutMs: number;
  readonly idleMinBytes: number;
}

/**
 * A Node request's body as an {@link UploadBody}: read from the moment the core opens it (under
 * the upload's lock), watched by the idle timeout meanwhile, digested by `verifier` when the
 * request carries a checksum or digest.
 */
export function requestUploadBody(request: IncomingMessage, idle: IdleRule, verifier: ChecksumVerifier | undefined): UploadBody {
  // No Content-Length and no Transfer-Encoding: no body at all (HTTP/1.1), so zero bytes.
  const declared = header(request, 'content-length') ?? (header(request, 'transfer-encoding') === undefined ? '0' : undefined);
  let stopWatching: () => void = () => undefined;
  const stages: readonly Transform[] = verifier ? [verifier.stage] : [];
  return {
    declaredLength: declared === undefined ? undefined : Number(declared),
    stages,
    keepOnInterrupt: verifier === undefined,
    verify: () => verifier?.verify(),
    open: () => {
      stopWatching = watchIdleBody(request, idle.idleTimeoutMs, idle.idleMinBytes);
      return bodyOf(request);
    },
    close: () => stopWatching(),
    get receiving() {
      return !request.destroyed && !request.complete;
    },
    get heldBack() {
      return request.readableLength > 0 || request.readableFlowing === false;
    },
    interrupt: (reason) => request.destroy(reason),
  };
}

/**
 * The request body as a backend reads it. A backend's pipeline destroys its source when a stage
 * fails (413 past the length), and destroying a request whose body is still arriving destroys its
 * socket: the client would never see the 413. `pipe()` forwards the bytes (with backpressure) and
 * the request's own failure, but not the pipeline's destruction; the error response then drains
 * what is left of the body.
 */
function bodyOf(request: IncomingMessage): Readable {
  const body = new PassThrough();
  const fail = (error: Error) => body.destroy(error);
  // It may fail before the backend's pipeline reads it (which then gets the error from the stream
  // itself): without a listener meanwhile, its 'error' event would crash the process.
  body.on('error', () => undefined);
  // The connection closed while the request waited (for its lock, for the storage): the bytes it
  // had buffered went with it, and no event will come any more. Waiting for them held the
  // upload's lock for good (found by the HTTP fuzz: a whole PATCH followed by garbage bytes).
  if (request.destroyed) {
    fail(request.errored ?? new Error('aborted'));
    return body;
  }
  request.once('error', fail);
  // A body whose end was never read is an interruption: the connection closed mid-body, or even
  // after the whole body arrived but before it was read (`complete` is true then, yet the bytes
  // still buffered are lost and the pipe never ends).
  request.once('close', () => request.readableEnded || body.destroyed || fail(new Error('aborted')));
  return request.pipe(body);
}
