import type { IncomingMessage } from 'node:http';

/**
 * The body of a PATCH stopped arriving: the request ends and, like a lost connection (and unlike a
 * protocol error), keeps what it received.
 */
export class BodyIdleTimeoutError extends Error {
  constructor(ms: number) {
    super(`No request body received for ${ms} ms`);
    this.name = 'BodyIdleTimeoutError';
  }
}

/**
 * Ends a request whose socket stays silent for `ms` (the client stalled without closing the
 * connection). Returns the function that stops watching, to call once the body has been read.
 */
export function watchIdleBody(request: IncomingMessage, ms: number): () => void {
  if (ms <= 0) return () => undefined;
  const socket = request.socket;
  const onTimeout = () => request.destroy(new BodyIdleTimeoutError(ms));
  socket.setTimeout(ms);
  socket.once('timeout', onTimeout);
  return () => {
    socket.setTimeout(0);
    socket.off('timeout', onTimeout);
  };
}
