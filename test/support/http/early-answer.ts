import { connect, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { requestHead } from './requests.js';

/** What a client that goes on sending after an early answer saw. */
export interface EarlyAnswerOutcome {
  /** The status line's code (0 when no answer was read). */
  status: number;
  /** Everything read from the connection. */
  read: string;
  /** The socket's error code, if the connection was reset under it. */
  error?: string;
}

/**
 * A request with `Connection: close` and a body of `parts` × `partBytes`, of which one part goes
 * before the answer is awaited and the rest after it: a client that writes its whole body whatever
 * the server answered meanwhile (Node's `http` with `agent: false`, Python's urllib). The socket is
 * half-open, so it goes on writing after the server's FIN, as those clients do.
 */
export async function sendOnAfterEarlyAnswer(
  method: string,
  url: string,
  headers: Record<string, string | number>,
  partBytes = 16 * 1024,
  parts = 64,
): Promise<EarlyAnswerOutcome> {
  const { hostname, port } = new URL(url);
  const socket: Socket = connect({ host: hostname, port: Number(port), allowHalfOpen: true });
  let read = '';
  let error: string | undefined;
  socket.setEncoding('utf8');
  socket.on('data', (text: string) => (read += text));
  socket.on('error', (failure: NodeJS.ErrnoException) => (error = failure.code ?? failure.message));
  // Not events.once: it would reject on the reset this helper reports.
  const closed = new Promise((resolve) => socket.once('close', resolve));
  const part = Buffer.alloc(partBytes, 1);
  socket.write(requestHead(method, url, { ...headers, Connection: 'close', 'Content-Length': partBytes * parts }));
  socket.write(part);
  const deadline = Date.now() + 10_000;
  while (!read.includes('\r\n\r\n') && !socket.destroyed && Date.now() < deadline) await sleep(5);
  for (let i = 1; i < parts && !socket.destroyed; i++) {
    socket.write(part);
    await sleep(2);
  }
  if (!socket.destroyed) socket.end();
  await closed;
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(read)?.[1] ?? 0), read, error };
}
