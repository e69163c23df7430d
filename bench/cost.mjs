// Per-request cost of each server: CPU time the server process spent per request (utime + stime
// from /proc/<pid>/stat, all threads), and with --strace its system calls per request
// (`strace -f -c` attached for one round). Load on the machine moves throughput a lot and these
// figures little: the tool for before/after comparisons on a shared machine.
//
// Usage: node bench/cost.mjs [--servers bare,tus,minimal,sample] [--only small,head,patches,chunked,single]
//                            [--rounds N] [--count N] [--strace] [--env KEY=VALUE,...]
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MiB, TusClient, pool } from './lib/client.mjs';
import { load, median } from './lib/report.mjs';
import { ServerProcess, memory, stopAll } from './lib/servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values: args } = parseArgs({
  options: {
    servers: { type: 'string', default: 'bare,tus,minimal,sample' },
    only: { type: 'string', default: 'small,head' },
    rounds: { type: 'string', default: '3' },
    count: { type: 'string', default: '2000' },
    strace: { type: 'boolean', default: false },
    env: { type: 'string', default: '' },
  },
});
const extraEnv = Object.fromEntries(args.env.split(',').filter(Boolean).map((pair) => pair.split('=')));
const known = {
  bare: { key: 'bare', label: 'bare', script: join(here, 'servers/bare.mjs') },
  tus: { key: 'tus', label: '@tus/server', script: join(here, 'servers/tus-node.mjs') },
  minimal: { key: 'minimal', label: 'nestjs-tus (module only)', script: join(here, 'servers/nestjs-minimal.mjs'), env: { ...extraEnv } },
  sample: { key: 'sample', label: 'nestjs-tus (sample)', script: join(root, 'dist/apps/sample/main.js'), env: { TUS_STORAGE: 'file', ...extraEnv } },
};
const specs = args.servers.split(',').map((key) => known[key] ?? { key, label: key, script: resolve(key), env: extraEnv });
const count = Number(args.count);
const rounds = Number(args.rounds);
const TICK_US = 1e6 / 100; // USER_HZ

/** utime + stime of every thread of `pid`, in microseconds. */
function cpuMicros(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * TICK_US;
}

const scenarios = {
  small: {
    title: `${count} × 10 KiB creation-with-upload, 32 at a time`,
    unit: 'upload',
    concurrency: 32,
    prepare: async () => undefined,
    run: (client) => pool(count, 32, () => client.create(10 * 1024, 10 * 1024)),
    requests: count,
  },
  head: {
    title: `${count} HEADs, 16 at a time`,
    unit: 'HEAD',
    concurrency: 16,
    prepare: async (client) => {
      const urls = [];
      await pool(16, 16, async () => {
        const url = await client.create(2 * MiB);
        await client.patch(url, 0, MiB);
        urls.push(url);
      });
      return urls;
    },
    run: (client, urls) => pool(count, 16, (_, worker) => client.head(urls[worker], MiB)),
    requests: count,
  },
  patches: {
    title: '64 uploads of 4 MiB in 16 PATCHes of 256 KiB, 16 at a time',
    unit: 'PATCH',
    concurrency: 16,
    prepare: async () => undefined,
    run: (client) => pool(64, 16, () => client.upload(4 * MiB, MiB / 4)),
    requests: 64 * 17,
  },
  chunked: {
    title: '256 MiB in 8 MiB PATCHes',
    unit: 'PATCH',
    concurrency: 1,
    prepare: async () => undefined,
    run: (client) => client.upload(256 * MiB, 8 * MiB),
    requests: 33,
  },
  single: {
    title: 'one 256 MiB PATCH',
    unit: 'upload',
    concurrency: 1,
    prepare: async () => undefined,
    run: (client) => client.upload(256 * MiB),
    requests: 1,
  },
};

async function measure(server, scenario, trace) {
  const client = new TusClient(server.url, { maxSockets: scenario.concurrency });
  try {
    const prepared = await scenario.prepare(client);
    const tracer = trace ? await attachStrace(server.pid) : undefined;
    const cpuBefore = cpuMicros(server.pid);
    const start = performance.now();
    await scenario.run(client, prepared);
    const seconds = (performance.now() - start) / 1000;
    const cpu = cpuMicros(server.pid) - cpuBefore;
    const calls = tracer ? await tracer.stop() : undefined;
    return { rate: scenario.requests / seconds, cpuPerRequest: cpu / scenario.requests, calls, rss: memory(server.pid).rss };
  } finally {
    client.close();
    await server.clean();
  }
}

/** `strace -f -c` on every thread of `pid`; `stop()` resolves with { syscall: calls, ..., errors: {...} }. */
async function attachStrace(pid) {
  const child = spawn('strace', ['-f', '-c', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let text = '';
  child.stderr.on('data', (chunk) => (text += chunk));
  // Attached once it prints nothing more for a moment: strace says nothing on attach with -c; wait a little.
  await new Promise((r) => setTimeout(r, 500));
  return {
    stop: () =>
      new Promise((resolvePromise) => {
        child.on('exit', () => {
          const calls = {};
          const errors = {};
          for (const line of text.split('\n')) {
            const m = /^\s*[\d.]+\s+[\d.]+\s+\d+\s+(\d+)\s+(\d+)?\s*(\w+)$/.exec(line);
            if (m && m[3] !== 'total') {
              calls[m[3]] = Number(m[1]);
              if (m[2]) errors[m[3]] = Number(m[2]);
            }
          }
          resolvePromise({ calls, errors });
        });
        child.kill('SIGINT');
      }),
  };
}

async function main() {
  console.log(`cost: ${load()}`);
  const work = await mkdtemp(join(tmpdir(), 'nestjs-tus-cost-'));
  const servers = [];
  try {
    for (const spec of specs) servers.push(await new ServerProcess(spec, join(work, spec.key)).start());
    for (const server of servers) {
      const client = new TusClient(server.url, { maxSockets: 16 });
      await pool(300, 16, () => client.create(10 * 1024, 10 * 1024));
      const url = await client.create(1024);
      await pool(300, 16, () => client.head(url, 0));
      client.close();
      await server.clean();
    }
    for (const key of args.only.split(',')) {
      const scenario = scenarios[key];
      const results = new Map(servers.map((s) => [s, []]));
      for (let round = 1; round <= rounds; round++) {
        for (const server of servers) results.get(server).push(await measure(server, scenario, false));
      }
      console.log(`\n${scenario.title} (${rounds} rounds interleaved, medians; ${load()})`);
      const bare = results.get(servers[0]);
      for (const server of servers) {
        const r = results.get(server);
        const ratio = median(r.map((x, i) => x.rate / bare[i].rate));
        console.log(
          `  ${server.spec.label.padEnd(26)} ${median(r.map((x) => x.rate)).toFixed(0).padStart(6)}/s  ratio to ${servers[0].spec.label} ${ratio.toFixed(2)}  CPU/${scenario.unit} ${median(r.map((x) => x.cpuPerRequest)).toFixed(0).padStart(6)} µs  (rounds: ${r.map((x) => x.cpuPerRequest.toFixed(0)).join(', ')})  RSS ${(median(r.map((x) => x.rss)) / 1024).toFixed(0)} MiB`,
        );
      }
      if (args.strace) {
        console.log('  system calls per request (strace -f -c, one round):');
        for (const server of servers) {
          const { calls, errors } = (await measure(server, scenario, true)).calls;
          const per = (n) => (n / scenario.requests).toFixed(1);
          const total = Object.values(calls).reduce((a, b) => a + b, 0);
          const top = Object.entries(calls)
            .sort((a, b) => b[1] - a[1])
            .filter(([, n]) => n / scenario.requests >= 0.05)
            .map(([name, n]) => `${name} ${per(n)}${errors[name] ? ` (${per(errors[name])} failed)` : ''}`);
          console.log(`  ${server.spec.label.padEnd(26)} ${per(total)} total: ${top.join(', ')}`);
        }
      }
    }
  } finally {
    await stopAll();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
