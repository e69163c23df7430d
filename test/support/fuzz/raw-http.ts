import { connect } from 'node:net';

/** One response as read off the wire. */
export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

/** What came back for one raw request. */
export interface RawExchange {
  /** Several when bytes past the request were read as another request. */
  responses: RawResponse[];
  /** No response within the deadline: the server hung on this request. */
  timedOut: boolean;
  /** The request was still unanswered when its end was signalled (half-close). */
  halfClosed: boolean;
  /** How the connection failed, if it did (a reset after an early answer is normal). */
  error: string | undefined;
}

export interface RawExchangeOptions {
  /** The first response answers a HEAD: no body, whatever its headers say. */
  headRequest: boolean;
  /**
   * Half-close the connection if no response came within this delay: a client that lost its
   * connection mid-body. Node answers nothing to a request whose client half-closed, so this is
   * short only for requests that cannot complete (a body shorter than announced).
   */
  endAfterMs: number;
  /** Give up (a hang) after this long without a response. */
  timeoutMs: number;
  /** Bytes were sent past the request: wait a moment for the answer to them too. */
  expectMore: boolean;
}

/**
 * Sends `bytes` exactly as given over a new TCP connection and reads the answer. Clients such as
 * `http.request` refuse to send malformed requests; this sends anything.
 */
export function rawExchange(port: number, bytes: Buffer, options: RawExchangeOptions): Promise<RawExchange> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let error: string | undefined;
    let halfClosed = false;
    let timedOut = false;
    let finishing: NodeJS.Timeout | undefined;
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setNoDelay(true);
    const endTimer = setTimeout(() => {
      halfClosed = true;
      socket.end();
    }, options.endAfterMs);
    const deadline = setTimeout(() => {
      timedOut = true;
      socket.destroy();
    }, options.timeoutMs);
    socket.on('connect', () => socket.write(bytes, () => undefined));
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      // Once a whole response is in, hang up (after a moment for the answer to bytes past the request).
      if (finishing === undefined && parseResponses(Buffer.concat(chunks), options.headRequest).complete > 0) {
        clearTimeout(endTimer);
        finishing = setTimeout(() => socket.destroy(), options.expectMore ? 25 : 0);
      }
    });
    socket.on('error', (cause: NodeJS.ErrnoException) => {
      error ??= cause.code ?? cause.message;
    });
    socket.on('close', () => {
      clearTimeout(endTimer);
      clearTimeout(deadline);
      clearTimeout(finishing);
      const { responses } = parseResponses(Buffer.concat(chunks), options.headRequest, true);
      resolve({ responses, timedOut: timedOut && responses.length === 0, halfClosed: halfClosed && responses.length === 0, error });
    });
  });
}

/**
 * Reads consecutive HTTP/1.x responses; `complete` counts those whose body is known to be whole
 * (a body delimited by the connection's close is whole only once `closed`).
 */
export function parseResponses(data: Buffer, headRequest: boolean, closed = false): { responses: RawResponse[]; complete: number } {
  const responses: RawResponse[] = [];
  let complete = 0;
  let at = 0;
  while (at < data.length) {
    const end = data.indexOf('\r\n\r\n', at);
    if (end === -1) break;
    const head = data.subarray(at, end).toString('latin1');
    const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
    if (status === null) break;
    const headers: Record<string, string> = {};
    for (const line of head.split('\r\n').slice(1)) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const code = Number(status[1]);
    const start = end + 4;
    const framed = frameBody(data, start, code, headers, responses.length === 0 && headRequest);
    if (framed === undefined) {
      responses.push({ status: code, headers, body: data.subarray(start) });
      if (closed) complete++;
      break;
    }
    responses.push({ status: code, headers, body: framed.body });
    complete++;
    at = framed.next;
  }
  return { responses, complete };
}

/** The body of a response starting at `start`, and where the next response starts; undefined while incomplete. */
function frameBody(data: Buffer, start: number, status: number, headers: Record<string, string>, head: boolean): { body: Buffer; next: number } | undefined {
  if (head || status === 204 || status === 304 || (status >= 100 && status < 200)) return { body: Buffer.alloc(0), next: start };
  if (headers['transfer-encoding']?.toLowerCase().includes('chunked')) {
    const parts: Buffer[] = [];
    let at = start;
    for (;;) {
      const lineEnd = data.indexOf('\r\n', at);
      if (lineEnd === -1) return undefined;
      const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
      at = lineEnd + 2;
      if (Number.isNaN(size)) return undefined;
      if (size === 0) {
        const trailersEnd = data.indexOf('\r\n', at);
        return trailersEnd === -1 ? undefined : { body: Buffer.concat(parts), next: trailersEnd + 2 };
      }
      if (at + size + 2 > data.length) return undefined;
      parts.push(data.subarray(at, at + size));
      at += size + 2;
    }
  }
  const length = headers['content-length'];
  if (length === undefined) return undefined;
  const next = start + Number(length);
  return next > data.length ? undefined : { body: data.subarray(start, next), next };
}
