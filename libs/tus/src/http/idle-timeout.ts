import type { IncomingMessage } from 'node:http';
import { BodyIdleTimeoutError } from '../errors/tus.errors.js';

/** What a body did during one idle window. */
export interface IdleWindow {
  /** Bytes that arrived on the connection during the window. */
  received: number;
  /**
   * The server held the body back at some moment of the window (it paused the request for slow
   * storage, or bytes waited unread): the window proves nothing about the client.
   */
  heldBack: boolean;
}

/**
 * The minimum-progress rule (like Apache mod_reqtimeout's `MinRate`): a body that delivered fewer
 * than `minBytes` during a whole idle window while the server was waiting for it is a trickle
 * that holds its upload, its lock and a connection for hours. `minBytes` 0: only silence counts.
 */
export function isTrickle(window: IdleWindow, minBytes: number): boolean {
  return minBytes > 0 && !window.heldBack && window.received < minBytes;
}

/**
 * Ends a request whose socket stays silent for `ms` (the client stalled without closing the
 * connection), or, with `minBytes`, that receives fewer than `minBytes` in any window of `ms`
 * (a client trickling a byte at a time). Returns the function that stops watching, to call once
 * the body has been read.
 *
 * Silence while the server holds the body back (storage slower than the client: the request is
 * paused, or bytes wait unread), or held it back moments ago, is the server's own: the client
 * cannot send into a full TCP window. So is silence once the whole body has arrived while the
 * storage is still saving it. Neither ends the request. Counted by a timer of its own rather than
 * the socket's timeout: Node's HTTP server destroys a socket whose timeout fires once the body is
 * complete, whatever a listener would decide.
 */
export function watchIdleBody(request: IncomingMessage, ms: number, minBytes = 0): () => void {
  if (ms <= 0) return () => undefined;
  const socket = request.socket;
  // Set by any pause during a trickle window (backpressure from the storage), not only one at the check.
  let heldBack = false;
  // When the server last went back to reading the body after holding it back.
  let resumedAt = 0;
  const onPause = () => (heldBack = true);
  const onResume = () => (resumedAt = Date.now());
  request.on('pause', onPause);
  request.on('resume', onResume);

  let watching = true;
  let seen = socket.bytesRead;
  let quietSince = Date.now();
  const silenceCheck = setInterval(() => {
    const now = Date.now();
    if (socket.bytesRead !== seen || request.complete || isHeldBack(request) || now - resumedAt < ms) {
      seen = socket.bytesRead;
      quietSince = now;
    } else if (now - quietSince >= ms) {
      // Judged again after one turn of I/O: after the event loop was blocked, timers run before
      // the socket is read, and a client whose bytes wait in the kernel would look silent.
      const before = socket.bytesRead;
      setImmediate(() => {
        if (!watching || request.complete || request.destroyed || socket.bytesRead !== before || isHeldBack(request)) return;
        request.destroy(new BodyIdleTimeoutError(ms));
      });
    }
  }, Math.max(Math.floor(ms / 4), 10));
  silenceCheck.unref();

  let trickleCheck: NodeJS.Timeout | undefined;
  if (minBytes > 0) {
    // Counted on the socket: a 'data' listener on the request would take its body from the backend.
    let readBefore = socket.bytesRead;
    trickleCheck = setInterval(() => {
      // The window closes after one turn of I/O, for the reason the silence check waits for one.
      setImmediate(() => {
        const received = socket.bytesRead - readBefore;
        readBefore = socket.bytesRead;
        const window = { received, heldBack: heldBack || isHeldBack(request) };
        heldBack = false;
        if (watching && !request.complete && !request.destroyed && isTrickle(window, minBytes)) request.destroy(new BodyIdleTimeoutError(ms, received));
      });
    }, ms);
    trickleCheck.unref();
  }
  return () => {
    watching = false;
    clearInterval(silenceCheck);
    clearInterval(trickleCheck);
    request.off('pause', onPause);
    request.off('resume', onResume);
  };
}

/** The server is not reading the body at this instant: paused by backpressure, or bytes wait unread. */
function isHeldBack(request: IncomingMessage): boolean {
  return request.isPaused() || request.readableLength > 0;
}
