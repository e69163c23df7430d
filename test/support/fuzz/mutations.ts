import type { FuzzRandom } from './random.js';
import type { FuzzRequest } from './requests.js';

/**
 * Ways to break a valid tus request, each named in the failure report. Most keep the request
 * well-framed, so it gets past the HTTP parser and deep into the handlers with one thing wrong.
 */
type Mutation = (request: FuzzRequest, random: FuzzRandom, mark: string) => void;

/** Ids that would name something outside the upload folder if they were ever used as a path. */
export function traversalIds(mark: string): string[] {
  return [
    '..',
    '.',
    '%2e%2e',
    '%2E%2E',
    '.%2e',
    '..%2fsecret',
    '..%2Fsecret',
    '%2e%2e%2fsecret',
    '%2e%2e%2f%2e%2e%2f' + mark,
    '..%2f..%2f' + mark,
    '..%5csecret',
    '..\\secret',
    '..%255csecret',
    '%252e%252e%252fsecret',
    '%c0%ae%c0%ae%c0%afsecret',
    '..%c0%afsecret',
    'secret%00',
    'a%00b',
    '%00',
    '..%2fsibling%2fsecret',
    '..%2f..%2f..%2f..%2f..%2f..%2ftmp%2f' + mark,
    '....%2f%2fsecret',
    'x.info',
    '.tus-lock-owner-x',
    'secret.lock',
    '%',
    '%zz',
    '%2',
    'a'.repeat(201),
    mark,
    '~',
    '%20',
    '%E2%9C%93',
  ];
}

const METHODS = ['GET', 'PUT', 'TRACE', 'PROPFIND', 'patch', 'PATCh', 'P@TCH', 'M'.repeat(300), 'OPTIONS', 'HEAD', 'DELETE', 'POST', 'PATCH', 'SEARCH', 'QUERY', 'MKCOL', 'CONNECT'];
const NUMBERS = ['-1', '+1', '1e3', '1.0', '0x10', ' 7', '7 ', 'NaN', 'Infinity', '9007199254740992', '9007199254740991', '99999999999999999999999999', '9'.repeat(5000), '', `${'0'.repeat(300)}1`, '\uff11', '1,2', '0, 0'];
const CONTENT_TYPES = [
  'application/json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/plain',
  'application/offset+octet-stream; charset=utf-8',
  'APPLICATION/OFFSET+OCTET-STREAM',
  ';;;',
  'a/b/c',
  '',
  'application/offset+octet-stream, application/json',
];
const METADATA = [
  'key',
  'a YQ',
  'a !!!!',
  'a YQ==,a YQ==',
  ',,,',
  'cl\xe9 YQ==',
  'a YQ== b',
  '__proto__ YQ==,constructor YQ==',
  'a YQ==,',
  ' ',
  '\t',
];
const CONCAT = ['final;', 'final; ', 'final;http://]', 'final;http://[', 'final;/files/..%2f..%2fsecret', 'partial;x', 'PARTIAL', 'final', 'final;;', 'final;%', 'final;\\\\evil\\share'];
const CHECKSUMS = ['crc32 AAAA', 'sha1', 'sha1 ', 'sha1 !!!!', `sha1 ${'A'.repeat(27)}`, `sha1 ${'A'.repeat(27)}=`, `md5 ${'A'.repeat(22)}==`, `sha512 ${'A'.repeat(500)}`, 'SHA1 AAAA AAAA', '\u00a0sha1 AAAA'];
const HOSTS = ['', 'a b', '[::1', 'x'.repeat(3000), 'evil.example:99999', '\xff\xfe', 'localhost:0', '@', 'h/../x'];

function setHeader(request: FuzzRequest, name: string, value: string): void {
  request.headers = request.headers.filter(([key]) => key.toLowerCase() !== name.toLowerCase());
  request.headers.push([name, value]);
}

function replaceId(request: FuzzRequest, id: string): void {
  const path = request.target.replace(/\/[^/]*$/, '');
  request.target = `${request.target.startsWith('/files/') || request.upload ? path : request.target.replace(/\/$/, '')}/${id}`;
}

const MUTATIONS: Record<string, Mutation> = {
  'method': (request, random) => {
    request.method = random.pick(METHODS);
  },
  'target-traversal': (request, random, mark) => {
    replaceId(request, random.pick(traversalIds(mark)));
  },
  'target-form': (request, random, mark) => {
    const id = request.target.split('/').pop() ?? '';
    request.target = random.pick([
      '*',
      `http://evil.example/files/${id}`,
      `${request.target}?x=../../secret`,
      `/${request.target}`,
      request.target.replace('/files/', '/files//'),
      `${request.target}/extra`,
      request.target.replace('/files', '/FILES'),
      `/files/../files/${id}`,
      `/files/%2e%2e/%2e%2e/${mark}`,
      `/files/${'a'.repeat(20_000)}`,
      `/files/\xff\xfe`,
      `${request.target}#frag`,
      `${request.target};jsessionid=1`,
      `/vendor/tus-js-client/..%2f..%2f..%2fpackage.json`,
      '/%2e%2e/%2e%2e/etc/passwd',
      '',
    ]);
  },
  'version': (request, random) => {
    request.version = random.pick(['HTTP/1.0', 'HTTP/2.0', 'HTTP/1.2', 'HTTP/1', '', 'FOO/1.1', 'HTTP/1.1 extra']);
  },
  'drop-header': (request, random) => {
    if (request.headers.length > 0) request.headers.splice(random.int(request.headers.length), 1);
  },
  'tus-resumable': (request, random) => {
    setHeader(request, 'Tus-Resumable', random.pick(['0.2.2', '1.0', '1.0.0 ,1.0.0', '', 'x'.repeat(100), '1.0.0\x00']));
  },
  'number': (request, random) => {
    const name = random.pick(['Upload-Offset', 'Upload-Length', 'Upload-Defer-Length']);
    const known = request.upload?.offset ?? 0;
    setHeader(request, name, random.chance(0.3) ? String(random.pick([known + 1, Math.max(known - 1, 0), known + 1000, 2 ** 53])) : random.pick(NUMBERS));
  },
  'duplicate-header': (request, random) => {
    const name = random.pick(['Upload-Offset', 'Content-Length', 'Tus-Resumable', 'Host', 'Upload-Length', 'Content-Type', 'Upload-Metadata', 'Upload-Concat', 'Upload-Checksum']);
    request.headers.push([name, random.pick(['0', '1', '1.0.0', 'x', `${request.body.length + 1}`])]);
  },
  'metadata': (request, random) => {
    // Valid metadata of exactly `size` bytes: a key of 1 to 4 characters, a space, whole base64 quanta.
    const huge = (size: number) => {
      const quanta = Math.floor((size - 2) / 4);
      return `${'k'.repeat(size - 1 - 4 * quanta)} ${'QUFB'.repeat(quanta)}`;
    };
    setHeader(request, 'Upload-Metadata', random.chance(0.7) ? random.pick(METADATA) : huge(random.pick([4094, 4096, 4097, 4098, 8000, 15_000, 20_000])));
  },
  'concat': (request, random, mark) => {
    const many = `final;${Array.from({ length: 300 }, (_, i) => `/files/p${i}`).join(' ')}`;
    setHeader(request, 'Upload-Concat', random.chance(0.8) ? random.pick(CONCAT) : random.chance(0.5) ? many : `final;/files/${random.pick(traversalIds(mark))}`);
  },
  'checksum': (request, random) => {
    setHeader(request, 'Upload-Checksum', random.pick(CHECKSUMS));
  },
  'checksum-trailer': (request, random) => {
    setHeader(request, 'Trailer', 'Upload-Checksum');
    rechunk(request, random, random.chance(0.5));
  },
  'content-type': (request, random) => {
    setHeader(request, 'Content-Type', random.pick(CONTENT_TYPES));
  },
  'content-encoding': (request, random) => {
    setHeader(request, 'Content-Encoding', random.pick(['gzip', 'deflate', 'br', 'bogus', 'gzip, gzip']));
    if (random.chance(0.5)) setHeader(request, 'Content-Type', 'application/json');
  },
  'override': (request, random) => {
    setHeader(request, 'X-HTTP-Method-Override', random.pick(['GET', 'PATCH, DELETE', 'TRACE', '', 'x'.repeat(500), 'OPTIONS']));
  },
  'range': (request, random) => {
    setHeader(request, 'Range', random.pick(['bytes=0-0,1-1', 'bytes=-', 'bytes=99999999999999999999-', 'bytes=5-1', 'lines=1-2', 'bytes=0-'.repeat(1000), 'bytes=-99999999999999999999', 'bytes=\xff']));
  },
  'conditional': (request, random) => {
    setHeader(request, random.pick(['If-None-Match', 'If-Modified-Since']), random.pick(['*', 'W/"x"', 'garbage', 'Tue, 99 Foo 0000 99:99:99 GMT', ',,,', '"'.repeat(1000)]));
  },
  'host': (request, random) => {
    setHeader(request, 'Host', random.pick(HOSTS));
    if (random.chance(0.3)) setHeader(request, random.pick(['X-Forwarded-Host', 'Forwarded', 'X-Forwarded-Proto']), random.pick(['evil.example', 'for=x;host="a b";proto=gopher', '\xff', ';;;=']));
  },
  'huge-header': (request, random) => {
    const size = random.pick([15_000, 17_000, 64_000]);
    if (random.chance(0.5)) request.headers.push(['X-Padding', 'p'.repeat(size)]);
    else for (let i = 0; i < size / 100; i++) request.headers.push([`X-Pad-${i}`, 'p'.repeat(90)]);
  },
  'many-headers': (request) => {
    for (let i = 0; i < 2100; i++) request.headers.push([`X-${i}`, '1']);
  },
  'random-header': (request, random) => {
    const names = ['Transfer-Encoding', 'Expect', 'Connection', 'Upgrade', 'Origin', 'Access-Control-Request-Method', 'Authorization', 'Cookie', 'X-Requested-With', 'Trailer', 'TE'];
    const values = ['chunked', '100-continue', 'close', 'keep-alive, Upgrade', 'websocket', 'null', 'PATCH', 'Basic !!!', 'a=b; c', 'XMLHttpRequest', 'trailers', 'identity', 'gzip, chunked'];
    request.headers.push([random.pick(names), random.pick(values)]);
  },
  'body-longer': (request, random) => {
    request.trailing = random.chance(0.5) ? random.bytes(random.between(1, 2000)) : Buffer.from(`HEAD /files/x HTTP/1.1\r\nHost: a\r\nTus-Resumable: 1.0.0\r\n\r\n`);
  },
  'body-shorter': (request, random) => {
    if (request.body.length === 0) request.headers.push(['Content-Length', String(random.between(1, 100))]);
    else request.body = request.body.subarray(0, random.int(request.body.length));
    request.mayStall = true;
  },
  'content-length': (request, random) => {
    setHeader(request, 'Content-Length', random.pick(['-1', 'abc', '1e3', '99999999999999999999', '0x10', '', ' 1', '1, 2', String(request.body.length + 1)]));
    if (random.chance(0.3)) setHeader(request, 'Transfer-Encoding', 'chunked');
    request.mayStall = true;
  },
  'chunked': (request, random) => {
    rechunk(request, random, random.chance(0.5));
  },
  'body-on-bodiless': (request, random) => {
    request.body = random.bytes(random.between(1, 500));
    setHeader(request, 'Content-Length', String(request.body.length));
  },
  'oversize-body': (request, random) => {
    request.body = Buffer.concat([request.body, random.bytes(random.between(1, 70_000))]);
    setHeader(request, 'Content-Length', String(request.body.length));
  },
  'bytes': (request, random) => {
    const edit = random.pick(['nul', 'cr', 'lf', 'del', 'high', 'fold', 'bare-lf', 'space-in-name', 'cut', 'flip'] as const);
    if (edit === 'cut') request.mayStall = true;
    request.mutations.push(`bytes-${edit}`);
    request.rawEdits.push((head) => {
      const at = random.between(1, Math.max(head.length - 5, 1));
      const insert = (bytes: string) => Buffer.concat([head.subarray(0, at), Buffer.from(bytes, 'latin1'), head.subarray(at)]);
      switch (edit) {
        case 'nul':
          return insert('\0');
        case 'cr':
          return insert('\r');
        case 'lf':
          return insert('\n');
        case 'del':
          return insert('\x7f');
        case 'high':
          return insert('\xff\xfe');
        case 'fold':
          return Buffer.from(head.toString('latin1').replace('\r\n', '\r\n  folded\r\n'), 'latin1');
        case 'bare-lf':
          return Buffer.from(head.toString('latin1').replace(/\r\n/g, '\n'), 'latin1');
        case 'space-in-name':
          return Buffer.from(head.toString('latin1').replace(/\r\n([A-Za-z-]+):/, '\r\n$1 :'), 'latin1');
        case 'cut':
          return head.subarray(0, at);
        case 'flip': {
          const copy = Buffer.from(head);
          copy[at] = random.int(256);
          return copy;
        }
      }
    });
  },
};

/** Re-frames the body as chunked; `broken` gets a bad chunk size, a missing terminator, or a bogus trailer. */
function rechunk(request: FuzzRequest, random: FuzzRandom, broken: boolean): void {
  request.headers = request.headers.filter(([key]) => key.toLowerCase() !== 'content-length');
  request.headers.push(['Transfer-Encoding', 'chunked']);
  const body = request.body;
  const half = Math.floor(body.length / 2);
  const chunk = (part: Buffer) => (part.length === 0 ? [] : [Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]);
  let end = 'Upload-Checksum: sha1 AAAAAAAAAAAAAAAAAAAAAAAAAAA=\r\n\r\n';
  let sizeLine = '';
  if (broken) {
    const how = random.pick(['size', 'no-end', 'trailer']);
    if (how === 'size') sizeLine = 'zz\r\n';
    if (how === 'no-end') {
      end = '';
      request.mayStall = true;
    }
    if (how === 'trailer') end = 'Bogus Trailer\r\n\r\n';
  }
  request.body = Buffer.concat([Buffer.from(sizeLine), ...chunk(body.subarray(0, half)), ...chunk(body.subarray(half)), Buffer.from(end === '' ? '' : `0\r\n${end}`)]);
  if (sizeLine !== '') request.mayStall = true;
}

const NAMES = Object.keys(MUTATIONS);

/** Applies 1 to 3 random mutations (naming each in `request.mutations`). */
export function mutate(request: FuzzRequest, random: FuzzRandom, mark: string): FuzzRequest {
  const count = random.pick([1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < count; i++) {
    const name = random.pick(NAMES);
    if (name !== 'bytes') request.mutations.push(name);
    MUTATIONS[name]!(request, random, mark);
  }
  return request;
}
