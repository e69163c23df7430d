import { once } from 'node:events';
import { type Agent, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';

/** An interim (1xx) response as Node's client reports it (`'information'` on the ClientRequest). */
export interface InterimSeen {
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
}

/** What a test sees of one draft exchange: every interim response, then the final one. */
export interface IetfExchange {
  interim: InterimSeen[];
  status: number;
  reason: string;
  headers: IncomingHttpHeaders;
  text: string;
  /** Whether the request went out on a socket a previous request had used (keep-alive). */
  reusedSocket: boolean;
}

export interface IetfRequest {
  /** Sent as they are: the test sets `Upload-Draft-Interop-Version`, `Upload-Complete`, ... */
  headers?: Record<string, string | number>;
  /** Sent with its Content-Length. */
  body?: Buffer | string;
  /** A keep-alive agent to reuse sockets across requests; by default a fresh socket each time. */
  agent?: Agent;
}

/**
 * One request of the resumable-upload draft over a real socket, recording the 104s the server
 * sends before the final response. Node's client emits `'information'` for every 1xx but 101
 * and keeps waiting for the final response, so a server that writes a malformed interim response
 * shows up here as a parse error or a wrong final status.
 */
export function ietfRequest(method: string, url: string, options: IetfRequest = {}): Promise<IetfExchange> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    const { body } = options;
    if (body !== undefined) headers['Content-Length'] = Buffer.byteLength(body);
    const interim: InterimSeen[] = [];
    const req = httpRequest(url, { method, headers, agent: options.agent ?? false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () =>
        resolve({
          interim,
          status: res.statusCode ?? 0,
          reason: res.statusMessage ?? '',
          headers: res.headers,
          text: Buffer.concat(chunks).toString('utf8'),
          reusedSocket: req.reusedSocket,
        }),
      );
    });
    req.on('information', (info) => interim.push({ status: info.statusCode, reason: info.statusMessage, headers: info.headers }));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Writes `bytes` on a new connection and returns everything the server sent (latin1), once
 * `done(received)` holds, the server closes, or `timeoutMs` passes: for checking the exact bytes
 * of interim and final responses, pipelining, HTTP/1.0.
 */
export async function rawExchange(
  host: string,
  port: number,
  bytes: string | Buffer,
  done: (received: string) => boolean = () => false,
  timeoutMs = 2_000,
): Promise<string> {
  const socket = connect(port, host);
  await once(socket, 'connect');
  let received = '';
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      if (done(received)) resolve();
    });
    socket.on('close', () => resolve());
    socket.write(bytes);
  });
  clearTimeout(timer);
  socket.destroy();
  return received;
}
