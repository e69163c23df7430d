import type { IncomingMessage, ServerResponse } from 'node:http';

type RawWriter = (data: string, encoding: BufferEncoding) => boolean;

/**
 * Sends a formatted interim (1xx) head (`formatInterimHead`) ahead of the final response, the way
 * Node's own `writeEarlyHints` sends its 103: the response's raw writer, which writes straight to
 * the socket while the response owns it (docs/ietf-resumable-upload.md, "Writing the 104"). Node
 * 20 and 22 have no public method for another 1xx, and `writeHead(104)` would take it for the
 * final head.
 *
 * Returns false, sending nothing, where it cannot be done safely: a request that is not HTTP/1.1
 * or later ("A server MUST NOT send a 1xx response to an HTTP/1.0 client", RFC 9110 section 15.2),
 * a final head already committed, a response that does not own its socket yet (queued behind a
 * pipelined one) or whose socket is gone, a Node without the writer.
 */
export function writeInterim(request: IncomingMessage, response: ServerResponse, head: string): boolean {
  if (request.httpVersionMajor !== 1 || request.httpVersionMinor < 1) return false;
  if (response.headersSent || response.writableEnded) return false;
  const socket = response.socket;
  if (socket === null || socket.destroyed || !socket.writable) return false;
  const raw = (response as ServerResponse & { _writeRaw?: RawWriter })._writeRaw;
  if (typeof raw !== 'function') return false;
  raw.call(response, head, 'latin1');
  return true;
}
