// The limit: a bare node:http server that pipes each request body into a file
// with fs.createWriteStream and answers just enough tus for the benchmark
// (POST with optional creation-with-upload body, PATCH at the offset, HEAD, OPTIONS).
// No locking, no .info file, no checks beyond the offset: it is a yardstick, not a server.
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

const port = Number(process.env.PORT ?? 0);
const host = process.env.HOST || '127.0.0.1';
const dir = process.env.UPLOAD_DIR || './uploads';
const base = (process.env.TUS_PATH || '/files').replace(/\/+$/, '');

/** @type {Map<string, { offset: number, length: number }>} id -> upload state */
const uploads = new Map();
const OCTET = 'application/offset+octet-stream';

function send(res, status, headers = {}) {
  res.writeHead(status, { 'Tus-Resumable': '1.0.0', ...headers });
  res.end();
}

/** Writes the request body to the file at `start`; resolves with the number of bytes written. */
async function writeBody(req, path, flags, start) {
  const file = createWriteStream(path, { flags, start });
  await pipeline(req, file);
  return file.bytesWritten;
}

async function handle(req, res) {
  const url = req.url.split('?')[0];
  if (req.method === 'OPTIONS') {
    return send(res, 204, { 'Tus-Version': '1.0.0', 'Tus-Extension': 'creation,creation-with-upload' });
  }
  if (req.method === 'POST' && url === base) {
    const length = Number(req.headers['upload-length']);
    if (!Number.isSafeInteger(length) || length < 0) return send(res, 400);
    const id = randomBytes(16).toString('hex');
    const upload = { offset: 0, length };
    uploads.set(id, upload);
    const withBody = req.headers['content-type'] === OCTET;
    // An empty body still creates the (empty) file.
    upload.offset = await writeBody(withBody ? req : emptyBody(req), join(dir, id), 'w', 0);
    return send(res, 201, { Location: `${base}/${id}`, 'Upload-Offset': String(upload.offset) });
  }
  if (!url.startsWith(`${base}/`)) return send(res, 404);
  const upload = uploads.get(url.slice(base.length + 1));
  if (!upload) return send(res, 404);
  if (req.method === 'HEAD') {
    return send(res, 200, {
      'Upload-Offset': String(upload.offset),
      'Upload-Length': String(upload.length),
      'Cache-Control': 'no-store',
    });
  }
  if (req.method === 'PATCH') {
    if (req.headers['content-type'] !== OCTET) return send(res, 415);
    if (Number(req.headers['upload-offset']) !== upload.offset) return send(res, 409);
    const path = join(dir, url.slice(base.length + 1));
    upload.offset += await writeBody(req, path, 'r+', upload.offset);
    return send(res, 204, { 'Upload-Offset': String(upload.offset) });
  }
  return send(res, 405);
}

/** A POST without an upload body: drain whatever came and write nothing. */
function emptyBody(req) {
  req.resume();
  return (async function* () {})();
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (!res.headersSent) send(res, 500);
    else res.destroy(error);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, host, () => {
  const { port: actual } = server.address();
  console.log(`bare listening: http://${host}:${actual}${base}`);
});
