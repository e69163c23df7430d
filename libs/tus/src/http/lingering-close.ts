import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

/**
 * The longest a connection that closes with an answer is still read from, while the client goes on
 * sending the body the answer refused. Long enough for a client to read its answer, short enough
 * that a client sending gigabytes does not hold the connection.
 */
export const LINGER_MS = 2_000;

/** Per socket, the upload request it carries now: a kept-alive connection carries several in turn. */
const carried = new WeakMap<Socket, IncomingMessage>();

/**
 * Lets `request`'s connection close gracefully when it is answered before its body has all arrived
 * (a chunk refused with 409 or 423 while the client still sends, a guard's 403) and the connection
 * closes with the answer (the client sent `Connection: close`, as Node's `agent: false`, Python's
 * urllib and nginx towards its upstream do). Not at shutdown ({@link closeWithoutLingering}).
 *
 * Node closes such a connection as soon as the answer is written. Closing a socket with bytes
 * unread makes the kernel send a reset, and a reset drops what the client had not yet read: its
 * answer. The client sees EPIPE or ECONNRESET instead of the 409 (seen in CI, two PATCHes at one
 * offset on Fastify). Here the server half-closes instead, reads and drops what still comes, and
 * closes once the body has ended, the client closed, or after {@link LINGER_MS}: the lingering
 * close of Apache and Go's `net/http`.
 */
export function lingerWhileBodyArrives(request: IncomingMessage): void {
  // HTTP/1 only: an HTTP/2 stream's `socket` is a proxy made per stream, and a stream ends alone.
  if (request.httpVersionMajor !== 1) return;
  const socket = request.socket as (Socket & { destroySoon?: () => void }) | null;
  if (socket === null || typeof socket.destroySoon !== 'function') return;
  const patched = carried.has(socket);
  carried.set(socket, request);
  // Once its body has all arrived there is nothing to linger for; nor a reason to keep it.
  request.once('end', () => {
    if (carried.get(socket) === request) carried.delete(socket);
  });
  if (patched) return;
  const destroySoon = socket.destroySoon;
  socket.destroySoon = function (this: Socket) {
    const current = carried.get(socket);
    if (current === undefined || current.complete || socket.destroyed) return destroySoon.call(this);
    linger(socket, current);
  };
}

function linger(socket: Socket, request: IncomingMessage): void {
  // The answer and a FIN go out; the read side stays open (HTTP servers' sockets allow half-open).
  socket.end();
  const close = () => {
    if (socket.destroyed) return;
    // Not before the answer has left: destroying drops what the socket still holds to write.
    if (socket.writableFinished) socket.destroy();
    else socket.once('finish', () => socket.destroy());
  };
  // At the deadline, whatever is left: a client that neither ends its body nor reads its answer.
  const deadline = setTimeout(() => socket.destroy(), LINGER_MS);
  deadline.unref();
  socket.once('close', () => clearTimeout(deadline));
  // What still comes goes to the request, which Node reads and drops once its answer was sent.
  request.once('end', close);
  request.once('close', () => {
    if (request.complete) close();
  });
  request.resume();
}

/**
 * The connection of `request` closes with its answer as Node would have closed it: at shutdown a
 * slow client's body is not waited for (the process is going away; the client resumes elsewhere).
 */
export function closeWithoutLingering(request: IncomingMessage): void {
  const socket = request.socket;
  if (socket !== null && carried.get(socket) === request) carried.delete(socket);
}
