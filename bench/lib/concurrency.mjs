// The concurrency report (`npm run bench -- --concurrency`): how the cost of each scenario grows
// with the number of concurrent clients. One freshly started server per scenario, the levels in
// ascending order; per level: throughput, p99 latency of a request, peak RSS and peak open file
// descriptors of the server (VmHWM reset before the level, VmRSS and /proc/<pid>/fd sampled every
// 20 ms).
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MiB, TusClient, pool } from './client.mjs';
import { memory, ServerProcess } from './servers.mjs';

export const LEVELS = [1, 16, 64, 256];
const KiB = 1024;
const CHUNK = 256 * KiB;

/**
 * Each scenario: `prepare(client, level)` (untimed), then `count(level)` requests, `level` at a
 * time; `request(client, i, worker, state)` sends one and the time of each is recorded.
 */
const scenarios = [
  {
    key: 'small',
    title: '10 KiB creation-with-upload',
    unit: 'uploads/s',
    count: (level) => Math.max(1000, 8 * level),
    request: (client) => client.create(10 * KiB, 10 * KiB),
  },
  {
    key: 'head',
    title: 'HEAD (each client its own half-sent upload)',
    unit: 'req/s',
    count: (level) => Math.max(2000, 16 * level),
    prepare: async (client, level) => {
      const urls = [];
      await pool(level, 16, async () => {
        const url = await client.create(2 * CHUNK);
        await client.patch(url, 0, CHUNK);
        urls.push(url);
      });
      return urls;
    },
    request: (client, _, worker, urls) => client.head(urls[worker], CHUNK),
  },
  {
    key: 'chunked',
    title: '4 MiB uploads in 16 PATCHes of 256 KiB (latency per PATCH)',
    unit: 'PATCH/s',
    // Every client sends whole uploads: a creation, then its 16 PATCHes in order.
    count: (level) => 16 * Math.max(2 * level, 32),
    perUpload: 16,
    request: undefined,
  },
];

/** p-th percentile (0-100) of `values`. */
function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function openFds(pid) {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Samples RSS and open descriptors of `pid` while `work` runs. */
async function sampled(pid, work) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
  } catch {}
  let rss = memory(pid).rss;
  let fds = openFds(pid);
  let running = true;
  const poller = (async () => {
    while (running) {
      try {
        rss = Math.max(rss, memory(pid).rss);
        fds = Math.max(fds, openFds(pid));
      } catch {
        return;
      }
      await sleep(20);
    }
  })();
  try {
    const result = await work();
    return { result, rss, fds };
  } finally {
    running = false;
    await poller;
    try {
      rss = Math.max(rss, memory(pid).hwm);
    } catch {}
  }
}

async function level(server, scenario, concurrency) {
  const client = new TusClient(server.url, { maxSockets: concurrency });
  const latencies = [];
  const timed = async (fn) => {
    const start = performance.now();
    await fn();
    latencies.push(performance.now() - start);
  };
  try {
    const state = await scenario.prepare?.(client, concurrency);
    const total = scenario.count(concurrency);
    const { result: elapsed, rss, fds } = await sampled(server.pid, async () => {
      const start = performance.now();
      if (scenario.perUpload) {
        await pool(total / scenario.perUpload, concurrency, async () => {
          const url = await client.create(scenario.perUpload * CHUNK);
          for (let i = 0; i < scenario.perUpload; i++) await timed(() => client.patch(url, i * CHUNK, CHUNK));
        });
      } else {
        await pool(total, concurrency, (i, worker) => timed(() => scenario.request(client, i, worker, state)));
      }
      return (performance.now() - start) / 1000;
    });
    const hwm = memory(server.pid).hwm;
    return { throughput: latencies.length / elapsed, p99: percentile(latencies, 99), rss: Math.max(rss, hwm) * 1024, fds, requests: latencies.length };
  } finally {
    client.close();
    await server.clean();
  }
}

/**
 * Runs every scenario (or those of `only`) on a fresh server of each spec, at each level; prints
 * each measurement and returns the markdown tables.
 */
export async function concurrencyReport({ specs, work, only, levels = LEVELS, log = console.log }) {
  const sections = [];
  for (const spec of specs) {
    for (const scenario of scenarios.filter((s) => !only || only.has(s.key))) {
      const server = await new ServerProcess(spec, join(work, `${spec.key}-concurrency`)).start();
      const rows = [];
      try {
        // Warm-up: the JIT and the first files out of the way.
        await level(server, { ...scenario, count: () => (scenario.perUpload ? 16 * 16 : 500) }, 16);
        const idle = memory(server.pid).rss * 1024;
        for (const concurrency of levels) {
          const r = await level(server, scenario, concurrency);
          rows.push({ concurrency, ...r });
          log(
            `  ${spec.label} · ${scenario.title} · ${concurrency} concurrent: ${Math.round(r.throughput)} ${scenario.unit}, p99 ${r.p99.toFixed(1)} ms, peak RSS ${(r.rss / MiB).toFixed(1)} MiB, peak fds ${r.fds}`,
          );
        }
        sections.push(
          [
            `${spec.label}, ${scenario.title} (idle RSS after warm-up ${(idle / MiB).toFixed(1)} MiB):`,
            '',
            `| concurrent clients | requests | ${scenario.unit} | p99 latency | peak RSS | peak open fds |`,
            '|---:|---:|---:|---:|---:|---:|',
            ...rows.map((r) => `| ${r.concurrency} | ${r.requests} | ${Math.round(r.throughput)} | ${r.p99.toFixed(1)} ms | ${(r.rss / MiB).toFixed(1)} MiB | ${r.fds} |`),
          ].join('\n'),
        );
      } finally {
        await server.stop();
      }
    }
  }
  return sections.join('\n\n');
}
