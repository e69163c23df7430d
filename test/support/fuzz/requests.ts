import { base64Digest } from '../bytes.js';
import type { FuzzRandom } from './random.js';
import type { RawResponse } from './raw-http.js';

/** An upload the fuzz created, as far as its answers told: where it stands. */
export interface FuzzUpload {
  id: string;
  length: number | null;
  offset: number;
  concat: 'partial' | 'final' | null;
  gone: boolean;
}

/** One request to send, before it is turned into bytes; mutations edit any part of it. */
export interface FuzzRequest {
  /** The valid request it started as: create, patch, head, ... */
  kind: string;
  method: string;
  target: string;
  version: string;
  headers: [string, string][];
  body: Buffer;
  /** Bytes sent after the body (another request, garbage): past what Content-Length announces. */
  trailing: Buffer;
  /** What was changed, in order: the report of a failure names them. */
  mutations: string[];
  /** The upload it addresses, when it addresses one. */
  upload: FuzzUpload | undefined;
  /** Its framing may leave the server waiting for more bytes (a body shorter than announced). */
  mayStall: boolean;
  /** Byte-level edits applied to the serialised head. */
  rawEdits: ((head: Buffer) => Buffer)[];
}

const TUS = ['Tus-Resumable', '1.0.0'] as const;
const CHUNK = 'application/offset+octet-stream';
const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.!~';

/** The uploads the fuzz knows about, and the requests built from them. */
export class FuzzModel {
  readonly uploads: FuzzUpload[] = [];

  constructor(
    private readonly host: string,
    /** The tus path, e.g. `/files`. */
    readonly path: string,
  ) {}

  private live(): FuzzUpload[] {
    return this.uploads.filter((upload) => !upload.gone);
  }

  /** A valid tus request (or an OPTIONS, or a request to another route), chosen by weight. */
  build(random: FuzzRandom): FuzzRequest {
    const live = this.live();
    const roll = random.int(100);
    if (live.length === 0 || roll < 22) return this.create(random);
    if (roll < 26) return this.final(random, live);
    const upload = random.pick(live.length > 80 && random.chance(0.5) ? live.slice(0, 20) : live);
    if (roll < 56) return this.patch(random, upload);
    if (roll < 68) return this.request('head', 'HEAD', upload, [[...TUS]]);
    if (roll < 76) return this.download(random, upload);
    if (roll < 83 || live.length > 80) return this.request('delete', 'DELETE', upload, [[...TUS]]);
    if (roll < 90) return this.override(random, upload);
    if (roll < 96) return { ...this.base('options', 'OPTIONS', this.path), headers: [['Host', this.host]] };
    return { ...this.base('other-route', 'GET', random.pick(['/', '/api/uploads', '/api/config', '/index.html', '/vendor/tus-js-client/tus.min.js'])), headers: [['Host', this.host]] };
  }

  /** Learns from the answer to an unmutated request where its upload stands. */
  learn(request: FuzzRequest, response: RawResponse | undefined): void {
    if (response === undefined) return;
    const untouchedTarget = !request.mutations.some((name) => name.startsWith('method') || name.startsWith('target') || name.startsWith('bytes') || name.startsWith('version'));
    if (!untouchedTarget) return;
    const { upload } = request;
    const offset = response.headers['upload-offset'];
    const location = response.headers.location;
    if ((request.kind === 'create' || request.kind === 'final') && response.status === 201 && location !== undefined) {
      // A mutated Host comes back in Location: the id is its last segment all the same.
      const id = location.split('?', 1)[0]!.split('/').pop()!;
      const declared = header(request, 'upload-length');
      this.uploads.push({
        id,
        length: request.kind === 'final' || declared === undefined || !/^\d+$/.test(declared) ? null : Number(declared),
        offset: offset === undefined ? 0 : Number(offset),
        concat: request.kind === 'final' ? 'final' : header(request, 'upload-concat') === 'partial' ? 'partial' : null,
        gone: false,
      });
      return;
    }
    if (upload === undefined) return;
    if ((response.status === 204 || response.status === 200) && offset !== undefined) upload.offset = Number(offset);
    if (response.status === 200 && response.headers['upload-length'] !== undefined) upload.length = Number(response.headers['upload-length']);
    if (request.kind === 'delete' && response.status === 204) upload.gone = true;
    if (response.status === 404 || response.status === 410) upload.gone = true;
  }

  private base(kind: string, method: string, target: string, upload?: FuzzUpload): FuzzRequest {
    return { kind, method, target, version: 'HTTP/1.1', headers: [], body: Buffer.alloc(0), trailing: Buffer.alloc(0), mutations: [], upload, mayStall: false, rawEdits: [] };
  }

  private request(kind: string, method: string, upload: FuzzUpload, headers: [string, string][], body: Buffer = Buffer.alloc(0)): FuzzRequest {
    const request = this.base(kind, method, `${this.path}/${upload.id}`, upload);
    request.headers = [['Host', this.host], ...headers];
    request.body = body;
    if (body.length > 0 || method === 'PATCH' || method === 'POST') request.headers.push(['Content-Length', String(body.length)]);
    return request;
  }

  private create(random: FuzzRandom): FuzzRequest {
    const request = this.base('create', 'POST', this.path);
    const headers: [string, string][] = [['Host', this.host], [...TUS]];
    const deferred = random.chance(0.15);
    const length = random.pick([0, 1, random.int(64), random.int(4096), random.int(65_536)]);
    if (deferred) headers.push(['Upload-Defer-Length', '1']);
    else headers.push(['Upload-Length', String(length)]);
    if (random.chance(0.6)) headers.push(['Upload-Metadata', validMetadata(random)]);
    if (random.chance(0.2)) headers.push(['Upload-Concat', 'partial']);
    if (random.chance(0.3)) {
      const body = random.bytes(deferred ? random.int(2048) : Math.min(length, random.int(4096)));
      request.body = body;
      headers.push(['Content-Type', CHUNK]);
      if (random.chance(0.2)) headers.push(['Upload-Checksum', `sha1 ${base64Digest('sha1', body)}`]);
    }
    headers.push(['Content-Length', String(request.body.length)]);
    request.headers = headers;
    return request;
  }

  private final(random: FuzzRandom, live: FuzzUpload[]): FuzzRequest {
    const partials = live.filter((upload) => upload.concat === 'partial');
    const chosen = Array.from({ length: random.between(1, 3) }, () => random.pick(partials.length > 0 ? partials : live));
    const urls = chosen.map((upload) => (random.chance(0.5) ? `${this.path}/${upload.id}` : `http://${this.host}${this.path}/${upload.id}`));
    const request = this.base('final', 'POST', this.path);
    request.headers = [['Host', this.host], [...TUS], ['Upload-Concat', `final;${urls.join(' ')}`], ['Content-Length', '0']];
    if (random.chance(0.3)) request.headers.push(['Upload-Metadata', validMetadata(random)]);
    return request;
  }

  private patch(random: FuzzRandom, upload: FuzzUpload): FuzzRequest {
    // Capped: a fuzzed Upload-Length may be near 2^53, and the body is built in memory.
    const remaining = upload.length === null ? random.int(4096) : Math.min(Math.max(upload.length - upload.offset, 0), 65_536);
    const size = random.chance(0.3) ? remaining : Math.min(remaining, random.int(8192));
    const body = random.bytes(size);
    const headers: [string, string][] = [[...TUS], ['Upload-Offset', String(upload.offset)], ['Content-Type', CHUNK]];
    if (upload.length === null && random.chance(0.4)) headers.push(['Upload-Length', String(upload.offset + body.length + random.int(3) * random.int(100))]);
    if (random.chance(0.2)) headers.push(['Upload-Checksum', `${random.pick(['sha1', 'md5', 'sha256', 'sha512'] as const)} ${digestOf(random, body)}`]);
    return this.request('patch', 'PATCH', upload, headers, body);
  }

  private download(random: FuzzRandom, upload: FuzzUpload): FuzzRequest {
    const headers: [string, string][] = [];
    if (random.chance(0.4)) headers.push(['Range', random.pick(['bytes=0-0', 'bytes=-10', `bytes=${random.int(100)}-`, 'bytes=0-99999'])]);
    if (random.chance(0.2)) headers.push(['If-None-Match', `"${upload.id}-${upload.offset}-x"`]);
    return this.request('get', 'GET', upload, headers);
  }

  private override(random: FuzzRandom, upload: FuzzUpload): FuzzRequest {
    const method = random.pick(['PATCH', 'HEAD', 'DELETE', 'patch']);
    if (method.toUpperCase() !== 'PATCH') return this.request('override', 'POST', upload, [[...TUS], ['X-HTTP-Method-Override', method]]);
    const patch = this.patch(random, upload);
    return { ...patch, kind: 'override', method: 'POST', headers: [...patch.headers, ['X-HTTP-Method-Override', method]] };
  }
}

/** The first value of a request header, case-insensitively. */
export function header(request: FuzzRequest, name: string): string | undefined {
  return request.headers.find(([key]) => key.toLowerCase() === name)?.[1];
}

function validMetadata(random: FuzzRandom): string {
  const pairs = Array.from({ length: random.between(1, 4) }, (_, i) => {
    const key = i === 0 ? 'filename' : random.text(random.between(1, 12), KEY_CHARS);
    const value = random.chance(0.2) ? '' : Buffer.from(random.text(random.between(1, 40), 'abcdefghij éü✓/.\\..'), 'utf8').toString('base64');
    return value === '' ? key : `${key} ${value}`;
  });
  return [...new Map(pairs.map((pair) => [pair.split(' ')[0], pair])).values()].join(',');
}

/** The right digest of `body` most of the time, a wrong one otherwise (460). */
function digestOf(random: FuzzRandom, body: Buffer): string {
  const algorithm = random.pick(['sha1', 'md5', 'sha256', 'sha512'] as const);
  return base64Digest(algorithm, random.chance(0.8) ? body : random.bytes(4));
}

/** The request as bytes: the head, the body, then anything trailing. */
export function serialize(request: FuzzRequest): Buffer {
  const requestLine = request.version === '' ? `${request.method} ${request.target}` : `${request.method} ${request.target} ${request.version}`;
  const lines = [requestLine, ...request.headers.map(([name, value]) => `${name}: ${value}`)];
  let head: Buffer = Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1');
  for (const edit of request.rawEdits) head = edit(head);
  return Buffer.concat([head, request.body, request.trailing]);
}

/** A one-line description of a request, for failure reports (long values cut). */
export function describeRequest(request: FuzzRequest): string {
  const cut = (text: string) => (text.length > 120 ? `${text.slice(0, 120)}...(${text.length} chars)` : text);
  const headers = request.headers.map(([name, value]) => `${cut(name)}: ${cut(value)}`).join(' | ');
  return `[${request.kind}; ${request.mutations.join(', ') || 'valid'}] ${cut(request.method)} ${cut(request.target)} ${request.version} | ${headers} | body ${request.body.length} B + ${request.trailing.length} B`;
}
