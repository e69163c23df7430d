#!/usr/bin/env node
// What one large tus upload costs in S3 requests: the sample (TUS_STORAGE=s3) stores through a
// counting HTTP proxy of this script's own into a Ceph RGW (started as the tests start it, or
// S3_ENDPOINT's), while the script uploads SIZE MiB (default 1024) in one PATCH. Prints the S3
// requests by kind and the upload's MiB/s (with the proxy in the path: compare runs of this
// script with each other, not with `npm run bench -- --s3`).
//   node bench/s3-requests.mjs [SIZE_MIB]      (needs dist/apps/sample/main.js: npm run build)
//   node bench/s3-requests.mjs --small         the benchmark's small upload (10 KiB in its creation
//                                              request, creation-with-upload) and a HEAD of it
import { spawn } from 'node:child_process';
import http from 'node:http';
import { CreateBucketCommand, DeleteBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { sampleS3Env, startS3Server } from '../test/support/servers/rgw.mjs';
import { MiB, TusClient } from './lib/client.mjs';

const small = process.argv[2] === '--small';
const size = small ? 10 * 1024 : Number(process.argv[2] ?? 1024) * MiB;
const server = await startS3Server();
const target = new URL(server.endpoint);
const counts = new Map();
const kindOf = (req) => {
  const url = new URL(req.url, 'http://s3');
  const q = url.searchParams;
  const what = q.has('partNumber') ? 'part' : q.has('uploads') ? 'create-multipart' : q.has('uploadId') ? 'multipart' : url.pathname.endsWith('.info') ? '.info' : url.pathname.endsWith('.lock') ? '.lock' : /\.pending\./.test(url.pathname) ? '.pending' : 'object';
  return `${req.method} ${what}`;
};
const proxy = http.createServer((req, res) => {
  const kind = kindOf(req);
  counts.set(kind, (counts.get(kind) ?? 0) + 1);
  const upstream = http.request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
    res.writeHead(answer.statusCode, answer.headers);
    answer.pipe(res);
  });
  upstream.on('error', () => res.destroy());
  req.pipe(upstream);
});
await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));

const bucket = `requests-${Date.now()}`;
const client = new S3Client({
  endpoint: server.endpoint,
  region: server.region,
  forcePathStyle: true,
  credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
});
await client.send(new CreateBucketCommand({ Bucket: bucket }));
// --small: without the sample's digest listener, which reads every finished upload back (a GET of
// its `.info` and of its object): the sample's requests, not the module's.
const env = { ...sampleS3Env(server, bucket), S3_ENDPOINT: `http://127.0.0.1:${proxy.address().port}`, ...(small ? { SAMPLE_DIGEST: '0' } : {}) };
const sample = spawn(process.execPath, ['dist/apps/sample/main.js'], { env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' }, stdio: ['ignore', 'pipe', 'inherit'] });
const url = await new Promise((resolve, reject) => {
  let out = '';
  sample.stdout.on('data', (data) => {
    out += data;
    const match = /nestjs-tus sample listening: (\S+)/.exec(out);
    if (match) resolve(match[1]);
  });
  sample.once('exit', (code) => reject(new Error(`sample exited with ${code}`)));
});
try {
  const tus = new TusClient(url, { maxSockets: 1 });
  const print = (title) => {
    const table = [...counts].sort(([a], [b]) => a.localeCompare(b));
    console.log(title);
    for (const [kind, count] of table) console.log(`  ${kind.padEnd(24)} ${count}`);
    console.log(`  ${'total'.padEnd(24)} ${table.reduce((sum, [, count]) => sum + count, 0)}`);
    counts.clear();
  };
  let upload;
  if (small) {
    // The sample's first request loads its S3 client: one creation out of the way first.
    await tus.terminate(await tus.create(size, size));
    counts.clear();
    upload = await tus.create(size, size);
    print('one 10 KiB creation-with-upload:');
    await tus.head(upload, size);
    print('one HEAD:');
  } else {
    upload = await tus.create(size);
    counts.clear();
    const started = performance.now();
    await tus.patch(upload, 0, size);
    const seconds = (performance.now() - started) / 1000;
    print(`one ${size / MiB} MiB PATCH: ${(size / MiB / seconds).toFixed(1)} MiB/s (through the counting proxy)`);
  }
  await tus.terminate(upload);
  tus.close();
} finally {
  sample.kill('SIGTERM');
  await client.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
  client.destroy();
  proxy.close();
  await server.stop();
}
