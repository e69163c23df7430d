// nestjs-tus benchmark: the bare pipe, @tus/server and nestjs-tus side by side.
// Usage: npm run bench [-- --quick] [--s3] [--reps N] [--build]
//          [--only single,chunked,small,parallel,head,rss] [--servers tus,nestjs,nestjs-s3]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { GiB, MiB, TusClient, pool } from './lib/client.mjs';
import { formatValue, load, machine, markdownTable } from './lib/report.mjs';
import { ServerProcess, peakMemoryDuring, stopAll } from './lib/servers.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const sampleMain = join(root, 'dist/apps/sample/main.js');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    s3: { type: 'boolean', default: false },
    build: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
    servers: { type: 'string' },
  },
});
const quick = args.quick;
const reps = args.reps ? Number(args.reps) : quick ? 1 : 5;
// Each memory round starts a fresh server per size: fewer rounds than the throughput scenarios.
const rssRounds = Math.min(reps, 3);
const only = args.only ? new Set(args.only.split(',')) : undefined;

// The servers, the bare pipe first: every ratio is taken against it.
const servers = [
  { key: 'bare', label: 'bare', script: join(here, 'servers/bare.mjs') },
  { key: 'tus', label: '@tus/server', script: join(here, 'servers/tus-node.mjs') },
  { key: 'nestjs', label: 'nestjs-tus', script: sampleMain, env: { TUS_STORAGE: 'file' } },
];
if (args.s3) {
  if (process.env.S3_ENDPOINT) {
    // The sample reads TUS_STORAGE=s3 and the S3_* variables (endpoint, bucket, keys) from this
    // environment. Its objects live in the bucket, not the temp dir: the client DELETEs them.
    servers.push({ key: 'nestjs-s3', label: 'nestjs-tus (S3)', script: sampleMain, env: { TUS_STORAGE: 's3' }, terminate: true });
  } else {
    console.log('notice: --s3 given but S3_ENDPOINT is not set: skipping nestjs-tus on the S3 backend.');
  }
}

if (args.servers) {
  // The bare pipe always runs: it is the yardstick of every ratio.
  const keep = new Set(['bare', ...args.servers.split(',')]);
  servers.splice(0, servers.length, ...servers.filter((s) => keep.has(s.key)));
}

const single = quick ? 256 * MiB : GiB;
const scenarios = [
  {
    key: 'single',
    title: `one ${label(single)} PATCH`,
    unit: 'MiB/s',
    run: async (client) => {
      const start = performance.now();
      await client.upload(single);
      return single / MiB / seconds(start);
    },
  },
  {
    key: 'chunked',
    title: '1 GiB in 8 MiB PATCHes',
    unit: 'MiB/s',
    run: async (client) => {
      const start = performance.now();
      await client.upload(GiB, 8 * MiB);
      return GiB / MiB / seconds(start);
    },
  },
  {
    key: 'small',
    title: '2,000 × 10 KiB uploads (creation-with-upload, 32 at a time)',
    unit: 'uploads/s',
    concurrency: 32,
    run: async (client) => {
      const start = performance.now();
      await pool(2000, 32, () => client.create(10 * 1024, 10 * 1024));
      return 2000 / seconds(start);
    },
  },
  {
    key: 'parallel',
    title: '16 × 64 MiB in parallel',
    unit: 'MiB/s',
    concurrency: 16,
    run: async (client) => {
      const start = performance.now();
      await Promise.all(Array.from({ length: 16 }, () => client.upload(64 * MiB)));
      return (16 * 64 * MiB) / MiB / seconds(start);
    },
  },
  {
    key: 'head',
    title: '5,000 HEADs (16 at a time, one upload each)',
    unit: 'req/s',
    concurrency: 16,
    run: async (client) => {
      // One upload per worker, half sent, like 16 clients asking where to resume:
      // HEADs of one upload at once would measure a server's lock queue instead.
      const urls = [];
      await pool(16, 16, async () => {
        const url = await client.create(2 * MiB);
        await client.patch(url, 0, MiB);
        urls.push(url);
      });
      const start = performance.now();
      await pool(5000, 16, (_, worker) => client.head(urls[worker], MiB));
      return 5000 / seconds(start);
    },
  },
].filter((s) => !only || only.has(s.key));

const rssSizes = [256 * MiB, 2 * GiB];

function seconds(start) {
  return (performance.now() - start) / 1000;
}

function ensureBuilt() {
  if (existsSync(sampleMain) && !args.build) return;
  console.log('building the sample app (npm run build) ...');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

/** Runs `fn(client)` against one server, then removes what it wrote. */
async function against(server, concurrency, fn) {
  const client = new TusClient(server.url, { maxSockets: concurrency ?? 32, track: server.spec.terminate });
  try {
    return await fn(client);
  } catch (error) {
    throw server.failure(error.message);
  } finally {
    if (client.created) await pool(client.created.length, 16, (i) => client.terminate(client.created[i]));
    client.close();
    await server.clean();
  }
}

async function warmUp(server) {
  await against(server, 16, async (client) => {
    await client.upload(8 * MiB, MiB);
    await pool(200, 16, () => client.create(10 * 1024, 10 * 1024));
    const url = await client.create(1024);
    await pool(200, 16, () => client.head(url, 0));
  });
}

async function main() {
  const started = performance.now();
  const loadAtStart = load();
  ensureBuilt();
  const work = await mkdtemp(join(tmpdir(), 'nestjs-tus-bench-'));
  const rows = [];
  const running = [];
  const onSignal = () => stopAll().finally(() => rm(work, { recursive: true, force: true }).finally(() => process.exit(130)));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`nestjs-tus bench: ${quick ? 'quick' : 'full'} run, ${reps} round(s) (memory: ${rssRounds}), temp dir ${work}`);
    console.log(machine());
    console.log(`before the run: ${loadAtStart}`);
    if (scenarios.length) {
      for (const spec of servers) running.push(await new ServerProcess(spec, join(work, spec.key)).start());
      for (const server of running) await warmUp(server);
      for (const scenario of scenarios) {
        const values = Object.fromEntries(servers.map((s) => [s.key, []]));
        for (let round = 1; round <= reps; round++) {
          for (const server of running) {
            const value = await against(server, scenario.concurrency, scenario.run);
            values[server.spec.key].push(value);
            console.log(`  ${scenario.title} · round ${round}/${reps} · ${server.spec.label}: ${formatValue(value, scenario.unit)}`);
          }
        }
        rows.push({ title: scenario.title, unit: scenario.unit, values, ratios: true });
      }
      await Promise.all(running.map((server) => server.stop()));
    }
    if (!only || only.has('rss')) rows.push(...(await memoryRows(work)));
  } finally {
    await stopAll();
    await rm(work, { recursive: true, force: true });
  }

  const table = markdownTable(rows, servers);
  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const header = [
    `# nestjs-tus benchmark: ${quick ? 'quick' : 'full'} run`,
    '',
    `${new Date().toISOString()} · ${machine()}`,
    `${reps} round(s) per scenario (memory: ${rssRounds}), interleaved; medians; ratios are medians of per-round ratios to the bare pipe. Took ${minutes} min; before it, ${loadAtStart}.`,
    '',
    '',
  ].join('\n');
  console.log(`\n${table}\n\n(${minutes} min)`);
  await mkdir(join(here, 'results'), { recursive: true });
  await writeFile(join(here, 'results/latest.md'), `${header}${table}\n`);
  console.log('written to bench/results/latest.md');
}

/**
 * Peak RSS of a freshly started server during one upload (one PATCH) of each size,
 * in rounds; the growth from the smallest to the largest size, round by round, is
 * flat when the server streams.
 */
async function memoryRows(work) {
  const peaks = Object.fromEntries(rssSizes.map((size) => [size, Object.fromEntries(servers.map((s) => [s.key, []]))]));
  for (let round = 1; round <= rssRounds; round++) {
    for (const size of rssSizes) {
      for (const spec of servers) {
        const server = await new ServerProcess(spec, join(work, `${spec.key}-rss`)).start();
        try {
          await against(server, 1, (client) => client.create(1024)); // the first request out of the way
          const { idle, peak } = await peakMemoryDuring(server.pid, () => against(server, 1, (client) => client.upload(size)));
          peaks[size][spec.key].push(peak);
          console.log(
            `  peak RSS, ${label(size)} upload · round ${round}/${rssRounds} · ${spec.label}: ${formatValue(peak, 'MiB')} (idle ${formatValue(idle, 'MiB')})`,
          );
        } finally {
          await server.stop();
          await rm(server.dir, { recursive: true, force: true });
        }
      }
    }
  }
  const [small, large] = [rssSizes[0], rssSizes.at(-1)];
  const growth = Object.fromEntries(
    servers.map((s) => [s.key, peaks[large][s.key].map((peak, i) => peak - peaks[small][s.key][i])]),
  );
  return [
    ...rssSizes.map((size) => ({ title: `peak RSS, ${label(size)} upload`, unit: 'MiB', values: peaks[size], ratios: true })),
    { title: `peak RSS growth ${label(small)} → ${label(large)}`, unit: '+MiB', values: growth, ratios: false },
  ];
}

function label(bytes) {
  return bytes >= GiB ? `${bytes / GiB} GiB` : `${bytes / MiB} MiB`;
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
