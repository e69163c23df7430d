// What the S3 sample's memory above idle is made of during one upload: V8's heap spaces, external
// memory and ArrayBuffers (peaks sampled every 10 ms inside the server by lib/memory-probe.mjs,
// loaded with --import), beside the kernel's VmHWM. Each variant is a fresh sample with extra Node
// flags; PROBE_GC=1 (with --expose-gc) runs a full GC before every sample, so the peaks are of live memory only.
//
// Usage: [PROBE_GC=1] [SIZE_MIB=1024] node bench/s3-memory.mjs [default,--max-semi-space-size=1,--expose-gc ...]
// (after `npm run build`; starts a Ceph RGW as the benchmark does, or uses S3_ENDPOINT's).
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { MiB, TusClient } from './lib/client.mjs';
import { startS3 } from './lib/s3.mjs';
import { ServerProcess, memory } from './lib/servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const sampleMain = resolve(here, '../dist/apps/sample/main.js');
const variants = (process.argv[2] || 'default').split(',');
const size = Number(process.env.SIZE_MIB || 1024) * MiB;
const mib = (bytes) => (bytes / MiB).toFixed(1);

const work = await mkdtemp(join(tmpdir(), 'nestjs-tus-s3-memory-'));
const s3 = await startS3();
try {
  for (const variant of variants) {
    const out = join(work, `probe-${variant.replace(/\W/g, '')}.json`);
    const flags = variant === 'default' ? '' : variant;
    const spec = {
      key: 's3',
      label: `sample on S3 (${variant})`,
      script: sampleMain,
      env: { ...s3.env, TUS_STORAGE: 's3', SAMPLE_DIGEST: '0', MEMPROBE_OUT: out, NODE_OPTIONS: `--import ${join(here, 'lib/memory-probe.mjs')} ${flags}` },
    };
    const server = await new ServerProcess(spec, join(work, 'uploads')).start();
    const client = new TusClient(server.url, { maxSockets: 1 });
    try {
      await client.create(1024); // the first request out of the way
      await sleep(300);
      writeFileSync(`${out}.reset`, ''); // the probe's peaks start again from here
      writeFileSync(`/proc/${server.pid}/clear_refs`, '5');
      await sleep(100);
      const idle = memory(server.pid).rss;
      const url = await client.upload(size);
      await sleep(300); // the probe writes its peaks every 100 ms
      const hwm = memory(server.pid).hwm;
      const peaks = JSON.parse(readFileSync(out, 'utf8'));
      console.log(`${variant}: VmRSS idle ${mib(idle * 1024)} MiB, VmHWM ${mib(hwm * 1024)} MiB (+${mib((hwm - idle) * 1024)} MiB)`);
      for (const key of Object.keys(peaks).filter((k) => k !== 'idle' && peaks[k] > 0)) {
        console.log(`  ${key}: idle ${peaks.idle[key] === undefined ? '-' : mib(peaks.idle[key])} MiB, peak ${mib(peaks[key])} MiB`);
      }
      await client.terminate(url);
      await s3.gc();
    } finally {
      client.close();
      await server.stop();
    }
  }
} finally {
  await s3.stop();
  await rm(work, { recursive: true, force: true });
}
