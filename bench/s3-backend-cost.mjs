#!/usr/bin/env node
// The S3 backend's own CPU per small upload, without HTTP or Nest: this process's CPU (user +
// system, process.cpuUsage) per lock + create + write of a 10 KiB upload that the write completes,
// + release, as the module does for a creation-with-upload; 8 at a time. Builds given as
// arguments (the s3.js of a built library: dist/libs/tus/s3.js, or a `--before` build under
// node_modules/.cache/nestjs-tus-bench-before/<commit>/dist/libs/tus/s3.js), alternated round by
// round, each in a child process of its own; into a Ceph RGW started as the tests start it.
//   node bench/s3-backend-cost.mjs ROUNDS S3_JS...
import { execFileSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';

const N = 400;
const CONCURRENCY = 8;

if (process.env.COST_CHILD) {
  const { S3StorageBackend } = await import(process.env.COST_CHILD);
  const env = JSON.parse(process.env.COST_S3);
  const client = new S3Client({ endpoint: env.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.accessKeyId, secretAccessKey: env.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
  const backend = new S3StorageBackend({ client, bucket: env.bucket, keyPrefix: 'cost/' });
  const body = randomBytes(10 * 1024);
  const one = async () => {
    const id = randomUUID().replaceAll('-', '');
    const release = await backend.lock(id);
    try {
      const upload = await backend.create({ id, length: body.length, metadata: {}, metadataHeader: null, createdAt: new Date(), expiresAt: null, concat: null });
      const done = await backend.write(upload, { stream: Readable.from([body]), stages: [], keepOnInterrupt: true, verify: async () => undefined });
      if (done.completedAt === null) throw new Error('not completed');
    } finally {
      await release();
    }
  };
  for (let i = 0; i < 20; i++) await one(); // warm-up
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (next++ < N) await one(); }));
  const used = process.cpuUsage(cpu);
  console.log(JSON.stringify({ cpu: (used.user + used.system) / N, rate: N / ((performance.now() - started) / 1000) }));
  client.destroy();
  process.exit(0);
}

const { startS3Server } = await import('../test/support/servers/rgw.mjs');
const [rounds, ...builds] = process.argv.slice(2);
const server = await startS3Server();
const client = new S3Client({ endpoint: server.endpoint, region: server.region, forcePathStyle: true, credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey } });
const bucket = `cost-${Date.now()}`;
await client.send(new CreateBucketCommand({ Bucket: bucket }));
try {
  for (let round = 1; round <= Number(rounds); round++) {
    for (const build of round % 2 ? builds : [...builds].reverse()) {
      const out = execFileSync(process.execPath, [new URL(import.meta.url).pathname], {
        env: { ...process.env, COST_CHILD: build, COST_S3: JSON.stringify({ ...server, bucket }), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
        encoding: 'utf8',
      });
      const { cpu, rate } = JSON.parse(out.trim().split('\n').at(-1));
      console.log(`round ${round} · ${build}: ${Math.round(cpu)} µs CPU/upload, ${rate.toFixed(1)} uploads/s (${N}, ${CONCURRENCY} at a time)`);
    }
  }
} finally {
  client.destroy();
  await server.stop();
}
