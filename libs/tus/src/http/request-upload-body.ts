import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import type { UploadBody } from '../core/upload-body.js';
import type { ChecksumVerifier } from './checksum-verifier.js';
import { takeBodyEarly } from './early-body.js';
import { watchIdleBody } from './idle-timeout.js';
import { header } from './raw-request.js';

/** How a front door watches a body: the idle timeout and the minimum rate (`TusHttpConfig`). */
export interface IdleRule {
  readonly idleTimeoutMs: number;
  readonly idleMinBytes: number;
}

/**
 * A Node request's body as an {@link UploadBody}: taken in from now on (an {@link EarlyBody}, so
 * that bytes a client sends while the request waits for its lock survive a cut connection), handed
 * to the core when it opens it (under the upload's lock), watched by the idle timeout meanwhile,
 * digested by `verifier` when the request carries a checksum or digest.
 *
 * The core's pipeline may destroy the body (413 past the length): that ends the early body only,
 * never the request, whose socket the client still needs for the 413; the error answer then drains
 * the rest (`discardEarlyBody`).
 */
export function requestUploadBody(request: IncomingMessage, idle: IdleRule, verifier: ChecksumVerifier | undefined): UploadBody {
  // No Content-Length and no Transfer-Encoding: no body at all (HTTP/1.1), so zero bytes.
  const declared = header(request, 'content-length') ?? (header(request, 'transfer-encoding') === undefined ? '0' : undefined);
  let stopWatching: () => void = () => undefined;
  const stages: readonly Transform[] = verifier ? [verifier.stage] : [];
  const body = takeBodyEarly(request);
  // It may fail before the backend's pipeline reads it (which then gets the error from the stream
  // itself): without a listener meanwhile, its 'error' event would crash the process.
  body.on('error', () => undefined);
  return {
    declaredLength: declared === undefined ? undefined : Number(declared),
    stages,
    keepOnInterrupt: verifier === undefined,
    verify: () => verifier?.verify(),
    open: () => {
      stopWatching = watchIdleBody(request, idle.idleTimeoutMs, idle.idleMinBytes);
      return body;
    },
    close: () => stopWatching(),
    get receiving() {
      return !request.destroyed && !request.complete;
    },
    get heldBack() {
      return body.pending > 0 || request.readableLength > 0 || request.isPaused();
    },
    // The socket tells, not the request: a request whose body was read to the end is destroyed too.
    get clientGone() {
      return request.socket?.destroyed ?? true;
    },
    interrupt: (reason) => request.destroy(reason),
  };
}
