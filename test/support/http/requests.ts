import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

/** What a test sees of a response. */
export interface TestResponse {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body as bytes (downloads). */
  body: Buffer;
}

export interface TestRequest {
  headers?: Record<string, string | number>;
  /** A buffer or string is sent with its Content-Length; a stream is sent chunked. */
  body?: Buffer | string | Readable;
}

/** The header every tus request but OPTIONS carries. */
export const TUS = { 'Tus-Resumable': '1.0.0' } as const;
/** The content type of every PATCH body (and of a creation-with-upload POST body). */
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';
/** Headers of a PATCH at `offset`. */
export const patchHeaders = (offset: number): Record<string, string> => ({
  ...TUS,
  'Upload-Offset': String(offset),
  'Content-Type': OFFSET_OCTET_STREAM,
});

/** One HTTP request over a real socket, with nothing added but what the test sets. */
export function send(method: string, url: string, options: TestRequest = {}): Promise<TestResponse> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { ...options.headers };
    const { body } = options;
    if ((typeof body === 'string' || Buffer.isBuffer(body)) && !hasHeader(headers, 'content-length')) {
      headers['Content-Length'] = Buffer.byteLength(body);
    }
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const bytes = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: bytes.toString('utf8'), body: bytes });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) req.end(body);
    else pipeline(body, req).catch(reject);
  });
}

/**
 * A request whose path is sent as written (`origin` + `path`): Node's URL parsing would resolve
 * `/files/..` to `/`.
 */
export function sendRawPath(method: string, origin: string, path: string, options: TestRequest = {}): Promise<TestResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: hostname, port, path, method, headers: { ...options.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text: body.toString('utf8'), body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(options.body as string | Buffer | undefined);
  });
}

/**
 * The head of a request to `url` as written on a raw socket (its `Host` from `url`, then `headers`),
 * for tests that must know which bytes have gone out, and when.
 */
export function requestHead(method: string, url: string, headers: Record<string, string | number>): string {
  const { host, pathname, search } = new URL(url);
  const fields = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  return `${method} ${pathname}${search} HTTP/1.1\r\nHost: ${host}\r\n${fields.join('')}\r\n`;
}

function hasHeader(headers: Record<string, unknown>, name: string): boolean {
  return Object.keys(headers).some((key) => key.toLowerCase() === name);
}

/** A PATCH of `body` at `offset`, with the tus headers and whatever `headers` adds. */
export const sendPatch = (uploadUrl: string, offset: number, body: TestRequest['body'], headers: Record<string, string | number> = {}): Promise<TestResponse> =>
  send('PATCH', uploadUrl, { headers: { ...patchHeaders(offset), ...headers }, body });

/** Creates an upload and returns its URL. */
export async function createUpload(
  collectionUrl: string,
  headers: Record<string, string | number> = { 'Upload-Length': 10 },
): Promise<string> {
  const response = await send('POST', collectionUrl, { headers: { ...TUS, ...headers } });
  if (response.status !== 201) throw new Error(`creation failed: ${response.status} ${response.text}`);
  return locationOf(response, collectionUrl);
}

/** The absolute URL of a response's `Location`, resolved against the URL the request went to. */
export const locationOf = (response: TestResponse, requestUrl: string): string => new URL(response.headers.location!, requestUrl).href;

/**
 * Sends `sent` bytes of a PATCH whose `Content-Length` promises more, then cuts the connection
 * `cutAfterMs` after they were written: a client that lost its network mid-chunk.
 *
 * The module takes the body in as soon as the request reaches its route, so bytes cut off while
 * the request waits for its lock or storage are kept (test/faults/cut-while-waiting); only bytes cut
 * off before the route sees the request (the app's own guards still running) go with it.
 */
export function sendInterruptedPatch(url: string, offset: number, sent: Buffer, promised: number, cutAfterMs = 200): Promise<void> {
  return new Promise((resolve) => {
    const req = httpRequest(url, {
      method: 'PATCH',
      agent: false,
      headers: { ...patchHeaders(offset), 'Content-Length': promised },
    });
    req.on('error', () => resolve());
    req.on('response', () => resolve());
    req.write(sent, () => setTimeout(() => req.destroy(), cutAfterMs));
    req.on('close', () => resolve());
  });
}

/** Base64 of a UTF-8 string, for `Upload-Metadata`. */
export const b64 = (value: string): string => Buffer.from(value, 'utf8').toString('base64');

/** HEAD of an upload, with the tus header. */
export const head = (uploadUrl: string): Promise<TestResponse> => send('HEAD', uploadUrl, { headers: { ...TUS } });

/** The id of an upload: the last segment of its URL (the file name in the upload folder). */
export const uploadIdOf = (uploadUrl: string): string => new URL(uploadUrl).pathname.split('/').pop()!;

/** `Upload-Offset` as HEAD reports it. */
export async function offsetOf(uploadUrl: string): Promise<number> {
  const response = await head(uploadUrl);
  if (response.status !== 200 && response.status !== 204) throw new Error(`HEAD failed: ${response.status} ${response.text}`);
  return Number(response.headers['upload-offset']);
}

/** A body sent chunked (no Content-Length), one part every `delayMs`: a slow client. */
export function slowBody(parts: Buffer[], delayMs = 0): Readable {
  return Readable.from(
    (async function* () {
      for (const part of parts) {
        if (delayMs > 0) await sleep(delayMs);
        yield part;
      }
    })(),
  );
}

/**
 * The bytes stored for an upload, read through the module's download route (`GET <upload URL>`,
 * which needs no `Tus-Resumable`). An unfinished upload's bytes so far are served only by an app
 * with `downloadUnfinished: true`. Anything but 200 throws.
 */
export async function storedBytes(uploadUrl: string): Promise<Buffer> {
  const response = await send('GET', uploadUrl);
  if (response.status !== 200) throw new Error(`GET failed: ${response.status} ${response.text}`);
  const declared = response.headers['content-length'];
  if (declared !== undefined && Number(declared) !== response.body.length) {
    throw new Error(`GET served ${response.body.length} bytes of the ${declared} its Content-Length announced`);
  }
  return response.body;
}
