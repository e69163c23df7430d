// nestjs-tus benchmark: the bare pipe, @tus/server and nestjs-tus side by side.
// Usage: npm run bench [-- --quick] [--s3] [--azure] [--reps N] [--build] [--before REF|none]
//          [--only single,chunked,small,parallel,head,rss,ietf,s3,azure]
//          [--servers tus,minimal,nestjs,before,nestjs-s3] [--concurrency] [--client lean|http]
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statfsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { GiB, MiB, TusClient, pool } from './lib/client.mjs';
import { LeanClient } from './lib/lean-client.mjs';
import { formatRatio, formatValue, load, machine, markdownTable, median, pairRatio } from './lib/report.mjs';
import { PART_SIZE, QUEUE_SIZE, deleteObject, libStorageUpload, startS3 } from './lib/s3.mjs';
import { azureScenario, startAzure } from './lib/azure.mjs';
import { concurrencyReport } from './lib/concurrency.mjs';
import { ServerProcess, peakMemoryDuring, stopAll } from './lib/servers.mjs';

/**
 * Issue 16's "no worse than today" is measured against the library as it was when the issue was
 * filed (main at ea013bb), built into .cache/ and run in the module-only server beside this one.
 */
const BASELINE_REF = 'ea013bb92d63a84bcb46b2ade550b4ddd0eb8f2e';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const sampleMain = join(root, 'dist/apps/sample/main.js');

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    s3: { type: 'boolean', default: false },
    azure: { type: 'boolean', default: false },
    build: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
    servers: { type: 'string' },
    before: { type: 'string', default: BASELINE_REF },
    scaling: { type: 'boolean', default: false },
    concurrency: { type: 'boolean', default: false },
    client: { type: 'string', default: 'lean' },
  },
});
const quick = args.quick;
// The small-upload and parallel scenarios are driven by the lean client (lib/lean-client.mjs) unless
// `--client http` asks for the node:http one every other scenario uses (to compare what each costs).
if (!['lean', 'http'].includes(args.client)) throw new Error(`--client ${args.client}: lean or http`);
const reps = args.reps ? Number(args.reps) : quick ? 1 : 5;
// Each memory round starts a fresh server per size: fewer rounds than the throughput scenarios.
const rssRounds = Math.min(reps, 3);
const only = args.only ? new Set(args.only.split(',')) : undefined;
// `--only s3` implies `--s3`.
const withS3 = args.s3 || Boolean(only?.has('s3'));
// The S3 scenario: 3 rounds in the full run, each two uploads of 1 GiB to the RGW.
const s3Rounds = args.reps ? reps : quick ? 1 : 3;
/** The S3 server and bucket, when `withS3` (lib/s3.mjs). */
let s3;
// `--azure` (or `--only azure`): nestjs-tus on Azurite against the SDK's uploadStream (lib/azure.mjs).
const withAzure = args.azure || Boolean(only?.has('azure'));
/** Azurite and its container, when `withAzure`. */
let azure;

// The servers, the bare pipe first: every ratio is taken against it. nestjs-tus twice: the module
// in an app with nothing else (bench/servers/nestjs-minimal.mjs: what the module costs, the figure
// issue 16's targets are about) and the sample app, without its SHA-256 listener (which reads every
// finished upload back: the sample's cost, not the module's); and, with `--before`, the module-only
// server on an earlier build of the library.
const minimalScript = join(here, 'servers/nestjs-minimal.mjs');
const servers = [
  { key: 'bare', label: 'bare', script: join(here, 'servers/bare.mjs') },
  { key: 'tus', label: '@tus/server', script: join(here, 'servers/tus-node.mjs') },
  { key: 'minimal', label: 'nestjs-tus (module only)', script: minimalScript },
  { key: 'nestjs', label: 'nestjs-tus (sample)', script: sampleMain, env: { TUS_STORAGE: 'file', SAMPLE_DIGEST: '0' } },
];
const before = args.before === 'none' ? undefined : args.before;
// `--scaling`: the module-only server as 1 and as 2 processes behind node:cluster, sharing one port
// and one upload folder (bench/servers/cluster.mjs): issue 16's 2-process target.
if (args.scaling) {
  const cluster = join(here, 'servers/cluster.mjs');
  servers.push({ key: 'x1', label: 'module only, 1 process (cluster)', script: cluster, env: { WORKERS: '1' } });
  servers.push({ key: 'x2', label: 'module only, 2 processes (cluster)', script: cluster, env: { WORKERS: '2' } });
}
if (before) servers.push({ key: 'before', label: `module only, before (${before.slice(0, 7)})`, script: minimalScript, env: {} });
// The sample on the S3 backend; `env` (TUS_STORAGE=s3 and the S3_* variables) is set once the S3
// server runs. Its objects live in the bucket, not the temp dir: the client DELETEs them, then RGW
// is told to reclaim them (`afterClean`).
const s3Sample = { key: 'nestjs-s3', label: 'nestjs-tus (S3)', script: sampleMain, env: {}, terminate: true, afterClean: () => s3?.gc() };
if (withS3) servers.push(s3Sample);
// The module-only server on S3 (`--servers minimal-s3`), and with `--before REF` also on the library
// at REF (`before-s3`): the S3 backend before and after a change, in the same rounds.
const s3Minimal = { key: 'minimal-s3', label: 'module only (S3)', script: minimalScript, env: {}, terminate: true, afterClean: () => s3?.gc() };
const s3Before = before && { key: 'before-s3', label: `module only (S3), before (${before.slice(0, 7)})`, script: minimalScript, env: {}, terminate: true, afterClean: () => s3?.gc() };
if (withS3) servers.push(s3Minimal, ...(s3Before ? [s3Before] : []));

if (args.servers) {
  // The bare pipe always runs: it is the yardstick of every ratio.
  const keep = new Set(['bare', ...args.servers.split(',')]);
  if (before && args.servers.split(',').includes('minimal')) keep.add('before');
  if (args.scaling) ['x1', 'x2'].forEach((key) => keep.add(key));
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
    lean: true,
    cpuUnit: 'upload',
    run: async (client, server) => {
      const spent = await timed(server, () => pool(2000, 32, () => client.create(10 * 1024, 10 * 1024)));
      return perUnit(spent, 2000);
    },
  },
  {
    key: 'parallel',
    title: '16 × 64 MiB in parallel',
    unit: 'MiB/s',
    concurrency: 16,
    lean: true,
    cpuUnit: 'MiB',
    run: async (client, server) => {
      const spent = await timed(server, () => Promise.all(Array.from({ length: 16 }, () => client.upload(64 * MiB))));
      return perUnit(spent, 16 * 64);
    },
  },
  {
    key: 'head',
    title: '5,000 HEADs (16 at a time, one upload each)',
    unit: 'req/s',
    concurrency: 16,
    cpuUnit: 'HEAD',
    run: async (client, server) => {
      // One upload per worker, half sent, like 16 clients asking where to resume:
      // HEADs of one upload at once would measure a server's lock queue instead.
      const urls = [];
      await pool(16, 16, async () => {
        const url = await client.create(2 * MiB);
        await client.patch(url, 0, MiB);
        urls.push(url);
      });
      const spent = await timed(server, () => pool(5000, 16, (_, worker) => client.head(urls[worker], MiB)));
      return perUnit(spent, 5000);
    },
  },
].filter((s) => !only || only.has(s.key));

const rssSizes = [256 * MiB, 2 * GiB];

function seconds(start) {
  return (performance.now() - start) / 1000;
}

/**
 * Runs `fn` and returns its duration with the CPU spent meanwhile, in microseconds: by the server
 * (all its processes), by this process (the client: the runner does nothing else while a scenario
 * runs) and by the whole machine (/proc/stat), whose remainder is other work sharing the cores.
 */
async function timed(server, fn) {
  const machine = machineBusyMicros();
  const serverCpu = cpuMicros(server.pid);
  const serverKernel = cpuMicros(server.pid, { kernelOnly: true });
  const client = process.cpuUsage();
  const start = performance.now();
  await fn();
  const elapsed = (performance.now() - start) * 1000;
  const { user, system } = process.cpuUsage(client);
  return {
    elapsed,
    server: cpuMicros(server.pid) - serverCpu,
    serverKernel: cpuMicros(server.pid, { kernelOnly: true }) - serverKernel,
    client: user + system,
    machine: machineBusyMicros() - machine,
  };
}

/**
 * A scenario's result from `timed`: `units` (uploads, MiB, HEADs) per second, server and client CPU
 * per unit, and the cores in use meanwhile (server, client, other work on the machine).
 */
function perUnit(spent, units) {
  const { elapsed, server, serverKernel, client, machine } = spent;
  return {
    value: units / (elapsed / 1e6),
    cpu: server / units,
    kernel: (100 * serverKernel) / server,
    client: client / units,
    cores: { server: server / elapsed, client: client / elapsed, other: Math.max(0, machine - server - client) / elapsed },
  };
}

/**
 * CPU time the whole machine spent busy in processes (user, nice, system, steal; not idle, iowait,
 * or interrupts: with interrupt time accounted apart, the loopback's softirq work is in no process's
 * time, so it would pass for other work), from /proc/stat, in microseconds.
 */
function machineBusyMicros() {
  const [, user, nice, system, , , , , steal] = readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].split(/\s+/).map(Number);
  return (user + nice + system + steal) * (1e6 / 100);
}

/**
 * utime + stime of every thread of `pid` and of its child processes (the workers of
 * servers/cluster.mjs), in microseconds (/proc/<pid>/stat, in USER_HZ ticks).
 */
function cpuMicros(pid, { kernelOnly = false } = {}) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  let children = [];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'latin1').split(' ').filter(Boolean);
  } catch {}
  const ticks = (kernelOnly ? 0 : Number(fields[11])) + Number(fields[12]);
  return ticks * (1e6 / 100) + children.reduce((sum, child) => {
    try {
      return sum + cpuMicros(child, { kernelOnly });
    } catch {
      return sum; // gone meanwhile
    }
  }, 0);
}

/**
 * The library at `ref`, built once into node_modules/.cache/nestjs-tus-bench-before/<commit>/ (its
 * own git archive of libs/tus, compiled with this checkout's TypeScript). Under this checkout's own
 * node_modules, its imports resolve to this checkout's packages even when `.cache/` is a link to
 * another checkout's (as in a git worktree sharing the Node binaries): packages resolved from that
 * other checkout would be another copy of @nestjs/core, whose HttpAdapterHost Nest cannot inject.
 * Returns the path of its index.js.
 */
function buildBefore(ref) {
  const commit = execFileSync('git', ['rev-parse', '--verify', `${ref}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(root, 'node_modules/.cache/nestjs-tus-bench-before', commit);
  const index = join(dir, 'dist/libs/tus/index.js');
  if (existsSync(index)) return index;
  console.log(`building the library at ${commit.slice(0, 7)} into ${dir} ...`);
  execFileSync('mkdir', ['-p', dir]);
  // Without its specs: Jest need not find them.
  execFileSync('sh', ['-c', `git archive ${commit} libs/tus tsconfig.json ':(exclude)*.spec.ts' | tar -x -C "${dir}"`], { cwd: root });
  const result = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(dir, 'libs/tus/tsconfig.lib.json')], { stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`building ${ref} failed`);
  return index;
}

function ensureBuilt() {
  if (existsSync(sampleMain) && !args.build) return;
  console.log('building the sample app (npm run build) ...');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) throw new Error('npm run build failed');
}

/** Runs `fn(client)` against one server, then removes what it wrote. */
async function against(server, concurrency, fn, lean = false) {
  const Client = lean ? LeanClient : TusClient;
  const client = new Client(server.url, { maxSockets: concurrency ?? 32, track: server.spec.terminate });
  try {
    return await fn(client, server);
  } catch (error) {
    throw server.failure(error.message);
  } finally {
    if (client.created) await pool(client.created.length, 16, (i) => client.terminate(client.created[i]));
    client.close();
    await server.clean();
    await server.spec.afterClean?.();
  }
}

async function warmUp(server) {
  await against(server, 16, async (client) => {
    await client.upload(8 * MiB, MiB);
    await pool(200, 16, () => client.create(10 * 1024, 10 * 1024));
    const url = await client.create(1024);
    await pool(200, 16, () => client.head(url, 0));
  });
  // The lean client's own code paths, through the JIT before the first timed round.
  if (args.client === 'lean') await against(server, 16, (client) => pool(200, 16, () => client.create(10 * 1024, 10 * 1024)), true);
}

/**
 * `--concurrency`: the small-upload, HEAD and chunked-PATCH scenarios at 1, 16, 64 and 256
 * concurrent clients (lib/concurrency.mjs), on the module-only server unless `--servers` names
 * others; `--only small,head,chunked` picks scenarios. Written to results/concurrency-latest.md.
 */
async function concurrencyMain() {
  const started = performance.now();
  const loadAtStart = load();
  ensureBuilt();
  const specs = args.servers ? servers.filter((s) => args.servers.split(',').includes(s.key)) : servers.filter((s) => s.key === 'minimal');
  const work = await mkdtemp(join(tmpdir(), 'nestjs-tus-bench-'));
  try {
    console.log(`nestjs-tus bench: concurrency report, temp dir ${work}`);
    console.log(machine());
    console.log(`before the run: ${loadAtStart}`);
    const tables = await concurrencyReport({ specs, work, only });
    const minutes = ((performance.now() - started) / 60_000).toFixed(1);
    const loadAtEnd = load();
    const text = `# nestjs-tus benchmark: concurrency\n\n${new Date().toISOString()} · ${machine()}\nOne server per scenario, levels in ascending order after a warm-up; throughput over the level, p99 of single requests, peak RSS (VmHWM reset before each level) and peak open file descriptors of the server (sampled every 20 ms). Client and server share the machine. Took ${minutes} min; before it, ${loadAtStart}; after it, ${loadAtEnd}.\n\n${tables}\n`;
    console.log(`\n${tables}`);
    await mkdir(join(here, 'results'), { recursive: true });
    await writeFile(join(here, 'results/concurrency-latest.md'), text);
    console.log(`\n(${minutes} min) written to bench/results/concurrency-latest.md`);
  } finally {
    await stopAll();
    await rm(work, { recursive: true, force: true });
  }
}

async function main() {
  if (args.concurrency) return concurrencyMain();
  const started = performance.now();
  const loadAtStart = load();
  ensureBuilt();
  const beforeSpec = servers.find((s) => s.key === 'before');
  if (beforeSpec) beforeSpec.env.TUS_LIBRARY = buildBefore(before);
  if (s3Before && servers.includes(s3Before)) s3Before.env.TUS_LIBRARY = buildBefore(before);
  const work = await mkdtemp(join(tmpdir(), 'nestjs-tus-bench-'));
  const uploadsIn = `uploads in ${work} (${fileSystem(work)})`;
  const rows = [];
  const running = [];
  const onSignal = () =>
    stopAll()
      .then(() => s3?.stop())
      .then(() => azure?.stop())
      .finally(() => rm(work, { recursive: true, force: true }).finally(() => process.exit(130)));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    console.log(`nestjs-tus bench: ${quick ? 'quick' : 'full'} run, ${reps} round(s) (memory: ${rssRounds}), temp dir ${work}`);
    console.log(machine());
    console.log(`before the run: ${loadAtStart}`);
    if (withS3) {
      s3 = await startS3();
      for (const spec of [s3Sample, s3Minimal, s3Before]) if (spec) Object.assign(spec.env, s3.env);
      console.log(`S3: ${s3.endpoint}, bucket ${s3.bucket}`);
    }
    if (scenarios.length) {
      for (const spec of servers) running.push(await new ServerProcess(spec, join(work, spec.key)).start());
      for (const server of running) await warmUp(server);
      for (const scenario of scenarios) {
        const values = Object.fromEntries(servers.map((s) => [s.key, []]));
        const [cpu, kernel, client, cores, other] = [0, 1, 2, 3, 4].map(() => Object.fromEntries(servers.map((s) => [s.key, []])));
        for (let round = 1; round <= reps; round++) {
          // Interleaved, and in a different order each round: a server is not always the one that
          // runs right after the most expensive one.
          for (const server of rotate(running, round - 1)) {
            const result = await against(server, scenario.concurrency, scenario.run, scenario.lean && args.client === 'lean');
            const value = typeof result === 'number' ? result : result.value;
            values[server.spec.key].push(value);
            let cpuText = '';
            if (typeof result !== 'number') {
              const { server: s, client: c, other: o } = result.cores;
              cpu[server.spec.key].push(result.cpu);
              kernel[server.spec.key].push(result.kernel);
              client[server.spec.key].push(result.client);
              cores[server.spec.key].push(s + c);
              other[server.spec.key].push(o);
              cpuText = `, CPU per ${scenario.cpuUnit}: server ${Math.round(result.cpu)} µs (${Math.round(result.kernel)} % in the kernel), client ${Math.round(result.client)} µs; cores: server ${s.toFixed(2)} + client ${c.toFixed(2)}, other work ${o.toFixed(2)}`;
            }
            console.log(`  ${scenario.title} · round ${round}/${reps} · ${server.spec.label}: ${formatValue(value, scenario.unit)}${cpuText}`);
          }
        }
        rows.push({ title: scenario.title, unit: scenario.unit, values, ratios: true });
        if (scenario.cpuUnit) {
          const by = scenario.lean && args.client === 'lean' ? 'lean client' : 'node:http client';
          rows.push(
            { title: `server CPU per ${scenario.cpuUnit}`, unit: 'µs', values: cpu, ratios: true },
            { title: 'share of the server CPU in the kernel (stime)', unit: '%', values: kernel, ratios: false },
            { title: `client CPU per ${scenario.cpuUnit} (${by})`, unit: 'µs', values: client, ratios: false },
            { title: 'cores in use: server + client', unit: 'cores', values: cores, ratios: false },
            { title: 'cores in use by other work', unit: 'cores', values: other, ratios: false },
          );
        }
        results[scenario.key] = { unit: scenario.unit, values, cpu, kernel, client, cores, other };
      }
      await Promise.all(running.map((server) => server.stop()));
    }
    if (!only || only.has('rss')) rows.push(...(await memoryRows(work)));
    if (!only || only.has('ietf')) ietfResult = await protocolScenario(work);
    if (withS3 && (!only || only.has('s3'))) s3Result = await s3Scenario(work);
    if (withAzure) {
      azure = await startAzure();
      azureResult = await azureScenario({ azure, sampleMain, size: single, rounds: s3Rounds, work, label });
    }
  } finally {
    await stopAll();
    await s3?.stop();
    await azure?.stop();
    await rm(work, { recursive: true, force: true });
  }

  const minutes = ((performance.now() - started) / 60_000).toFixed(1);
  const title = `# nestjs-tus benchmark: ${quick ? 'quick' : 'full'} run`;
  const stamp = `${new Date().toISOString()} · ${machine()}`;
  const s3Text = s3Result && `${s3Result.table}\n\n${s3Result.verdict}`;
  const s3Note = `S3 (${s3?.endpoint}): ${s3Rounds} round(s), interleaved (nestjs-tus, then lib-storage, ...); medians; the ratio is the median of per-round ratios.`;
  await mkdir(join(here, 'results'), { recursive: true });
  if (rows.length) {
    const table = markdownTable(rows, servers);
    const note = `${reps} round(s) per scenario (memory: ${rssRounds}), interleaved; medians; ratios are medians of per-round ratios to the bare pipe; ${uploadsIn}. Took ${minutes} min; before it, ${loadAtStart}; after it, ${load()}.`;
    const targets = rows.length && Object.keys(results).length ? targetsTable() : '';
    console.log(`\n${table}`);
    if (targets) console.log(`\n${targets}`);
    const budget = args.scaling ? scalingBudget() : '';
    if (budget) console.log(`\n${budget}`);
    const targetSection = targets ? `\n## Issue 16's targets\n\n${targets}\n${budget ? `\n${budget}\n` : ''}` : '';
    const s3Section = s3Text ? `\n## S3 backend against the AWS SDK\n\n${s3Note}\n\n${s3Text}\n` : '';
    // The 2-process run has its own record: it would otherwise replace the full run's table.
    await writeFile(join(here, args.scaling ? 'results/scaling-latest.md' : 'results/latest.md'), `${title}\n\n${stamp}\n${note}\n\n${table}\n${targetSection}${s3Section}`);
  }
  if (s3Text) {
    console.log(`\n${s3Text}`);
    await writeFile(
      join(here, 'results/s3-latest.md'),
      `${title}, S3 backend against the AWS SDK\n\n${stamp}\n${s3Note} Took ${minutes} min; before it, ${loadAtStart}.\n\n${s3Text}\n`,
    );
  }
  if (ietfResult) {
    const ietfText = `${ietfResult.table}\n\n${ietfResult.verdict}`;
    console.log(`\n${ietfText}`);
    await writeFile(
      join(here, 'results/ietf-latest.md'),
      `${title}, the IETF draft against tus 1.0\n\n${stamp}\n${ietfResult.note} Took ${minutes} min; before it, ${loadAtStart}.\n\n${ietfText}\n`,
    );
  }
  if (azureResult) {
    const text = `${azureResult.table}\n\n${azureResult.verdict}`;
    const note = `Azurite (${azure.endpoint}): ${s3Rounds} round(s), interleaved (nestjs-tus, then uploadStream, ...); medians; the ratio is the median of per-round ratios.`;
    console.log(`\n${text}`);
    await writeFile(join(here, 'results/azure-latest.md'), `${title}, Azure backend against the SDK's uploadStream\n\n${stamp}\n${note} Took ${minutes} min; before it, ${loadAtStart}.\n\n${text}\n`);
  }
  console.log(`\n(${minutes} min)`);
  const written = [rows.length && (args.scaling ? 'bench/results/scaling-latest.md' : 'bench/results/latest.md'), s3Text && 'bench/results/s3-latest.md', azureResult && 'bench/results/azure-latest.md', ietfResult && 'bench/results/ietf-latest.md'].filter(Boolean);
  if (written.length) console.log(`written to ${written.join(' and ')}`);
}

/** Per scenario key, the per-round values and server CPU of each server (by key). */
const results = {};

/**
 * The file system the uploads go to (`TMPDIR`): the small uploads' server CPU is mostly file-system
 * work in the kernel, several times more on ext4 than on tmpfs, and several times more again on an
 * ext4 without a journal (this machine's root): there the inode allocator skips every inode deleted
 * in the last minutes (`recently_deleted()`), and creating a file costs 0.2-2 ms (see README,
 * "Where a small upload's time goes").
 */
function fileSystem(path) {
  const names = { 0x01021994: 'tmpfs', 0xef53: 'ext4', 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0x794c7630: 'overlayfs' };
  const { type } = statfsSync(path);
  const name = names[type] ?? `file system type 0x${type.toString(16)}`;
  if (name !== 'ext4') return name;
  const journaled = ext4Journaled(path);
  return journaled === undefined ? name : `${name}, ${journaled ? 'journaled' : 'no journal'}`;
}

/** Whether the ext4 holding `path` has a journal (a `/proc/fs/jbd2/<device>-*` entry); undefined when unknown. */
function ext4Journaled(path) {
  try {
    // The mount holding `path`: the longest mount point that is a prefix of it.
    let best;
    for (const line of readFileSync('/proc/self/mountinfo', 'latin1').split('\n')) {
      const fields = line.split(' ');
      const point = fields[4];
      const source = fields[fields.indexOf('-') + 2];
      if (point === undefined || source === undefined) continue;
      const inside = path === point || path.startsWith(point.endsWith('/') ? point : `${point}/`);
      if (inside && (best === undefined || point.length > best.point.length)) best = { point, source };
    }
    if (best === undefined || !best.source.startsWith('/dev/')) return undefined;
    const device = best.source.slice('/dev/'.length).replace(/\//g, '!');
    // No /proc/fs/jbd2 at all: no journaled file system is mounted.
    if (!existsSync('/proc/fs/jbd2')) return existsSync(`/proc/fs/ext4/${device}`) ? false : undefined;
    return readdirSync('/proc/fs/jbd2').some((entry) => entry.startsWith(`${device}-`));
  } catch {
    return undefined;
  }
}

/** `list` rotated left by `n`: round n starts with a different server. */
function rotate(list, n) {
  const k = n % list.length;
  return [...list.slice(k), ...list.slice(0, k)];
}

/**
 * Issue 16's targets, each as the median of per-round ratios (a server against another in the same
 * round), with the range of those per-round ratios and, where the run has it, the same ratio for the
 * library before (`--before`). A target with a server or scenario missing from the run is skipped.
 */
function targetsTable() {
  const perRound = (a, b) => a.map((value, i) => value / b[i]).filter(Number.isFinite);
  const lines = [
    '| target | module only | per-round range | before, same run | sample | met |',
    '|---|---:|---:|---:|---:|---|',
  ];
  const add = (text, scenario, measure, of, against, test) => {
    const data = results[scenario]?.[measure];
    if (!data?.[of]?.length || !data[against]?.length) return;
    const rounds = perRound(data[of], data[against]);
    const ratio = median(rounds);
    const was = data.before?.length ? formatRatio(median(perRound(data.before, data[against]))) : '—';
    const sample = against !== 'before' && data.nestjs?.length ? formatRatio(median(perRound(data.nestjs, data[against]))) : '—';
    const range = `${formatRatio(Math.min(...rounds))}–${formatRatio(Math.max(...rounds))}`;
    lines.push(`| ${text} | ${formatRatio(ratio)} | ${range} | ${against === 'before' ? '—' : was} | ${sample} | ${test(ratio) ? 'met' : 'not met'} |`);
  };
  add('10 KiB creation-with-upload / bare pipe ≥ 0.60', 'small', 'values', 'minimal', 'bare', (r) => r >= 0.6);
  add('10 KiB creation-with-upload / @tus/server ≥ 1.50', 'small', 'values', 'minimal', 'tus', (r) => r >= 1.5);
  add("server CPU per small upload / @tus/server's < 1.00", 'small', 'cpu', 'minimal', 'tus', (r) => r < 1);
  add('HEAD / bare pipe ≥ 0.60', 'head', 'values', 'minimal', 'bare', (r) => r >= 0.6);
  add('HEAD / @tus/server ≥ 1.50', 'head', 'values', 'minimal', 'tus', (r) => r >= 1.5);
  // "No worse than today": the same server on the earlier build, in the same rounds. Identical code
  // swings by about ±10 % round to round on this shared machine, hence the margin.
  add('8 MiB-chunk PATCHes / before ≥ 0.90 (no worse, within noise)', 'chunked', 'values', 'minimal', 'before', (r) => r >= 0.9);
  add(`one ${label(single)} PATCH / before ≥ 0.90 (no worse, within noise)`, 'single', 'values', 'minimal', 'before', (r) => r >= 0.9);
  // Scaling (`--scaling`): the same two processes on one folder against one, same rounds.
  const scaled = (text, scenario) => {
    const data = results[scenario]?.values;
    if (!data?.x1?.length || !data.x2?.length) return;
    const rounds = perRound(data.x2, data.x1);
    const ratio = median(rounds);
    lines.push(`| ${text} | ${formatRatio(ratio)} | ${formatRatio(Math.min(...rounds))}–${formatRatio(Math.max(...rounds))} | — | — | ${ratio >= 1.6 ? 'met' : 'not met'} |`);
  };
  scaled('16 parallel uploads, 2 processes / 1 process ≥ 1.60', 'parallel');
  scaled('10 KiB creation-with-upload, 2 processes / 1 process ≥ 1.60', 'small');
  return lines.length > 2 ? lines.join('\n') : '';
}

/**
 * `--scaling`: the CPU budget behind each 2-process ratio, from the medians of the run. For x2 to
 * make 1.6 times x1's throughput at its own CPU per request (server and client), it needs
 * 1.6 × x1's throughput × that CPU, in cores; what it can have is the machine's 2 cores less what
 * other work took during its turns.
 */
function scalingBudget() {
  const lines = [];
  for (const [key, what] of [['small', '10 KiB creation-with-upload'], ['parallel', '16 parallel uploads']]) {
    const data = results[key];
    if (!data?.values.x1?.length || !data.values.x2?.length) continue;
    const unit = key === 'small' ? 'upload' : 'MiB';
    const m = (field, server) => median(data[field][server]);
    const perRequest = (server) => m('cpu', server) + m('client', server);
    const needed = (1.6 * m('values', 'x1') * perRequest('x2')) / 1e6;
    const cores = cpus().length;
    const free = cores - m('other', 'x2');
    lines.push(
      `- ${what}: 1 process made ${formatValue(m('values', 'x1'), data.unit)} on ${m('cores', 'x1').toFixed(2)} cores (server ${Math.round(m('cpu', 'x1'))} + client ${Math.round(m('client', 'x1'))} µs per ${unit}; other work ${m('other', 'x1').toFixed(2)} cores); ` +
        `2 processes made ${formatValue(m('values', 'x2'), data.unit)} on ${m('cores', 'x2').toFixed(2)} cores (server ${Math.round(m('cpu', 'x2'))} + client ${Math.round(m('client', 'x2'))} µs per ${unit}; other work ${m('other', 'x2').toFixed(2)} cores). ` +
        `1.6 × 1 process at 2 processes' CPU per ${unit} needs ${needed.toFixed(2)} cores; the ${cores} cores less other work left ${free.toFixed(2)}${needed > free ? ': out of reach in this run' : ''}.`,
    );
  }
  return lines.length ? `CPU budget (medians of the rounds):\n\n${lines.join('\n')}` : '';
}

/** The S3 scenario's table and verdict, once it ran. */
let s3Result;
/** The Azure scenario's table and verdict, once it ran. */
let azureResult;

/** The protocol comparison's table, verdict and note, once it ran. */
let ietfResult;

/**
 * The issue's protocol target: the same 1 GiB upload (256 MiB in `--quick`) over tus 1.0 and over
 * the IETF draft (interop 8), on one sample (file backend), in the same run, within 5%. Two forms,
 * each the same requests on both sides: a creation, then one append of everything (tus: POST, one
 * PATCH; the draft: POST `Upload-Complete: ?0`, one PATCH `?1`); and one creation carrying it all
 * (tus: creation-with-upload; the draft: POST `?1`, with its 104). Rounds alternate which protocol
 * goes first; every upload waits until the sample has hashed the previous one (its digest
 * listener reads each completed upload back), so none shares the CPU with another's aftermath.
 */
async function protocolScenario(work) {
  // The sample with its digest listener on: every upload waits for its digest (the other scenarios turn it off).
  const sample = servers.find((s) => s.key === 'nestjs') ?? { key: 'nestjs', label: 'nestjs-tus', script: sampleMain, env: { TUS_STORAGE: 'file' } };
  const spec = { ...sample, env: { ...sample.env, SAMPLE_DIGEST: '1' } };
  const server = await new ServerProcess(spec, join(work, 'nestjs-protocols')).start();
  const origin = new URL(server.url).origin;
  const forms = [
    { title: `one ${label(single)} upload: a creation, then one append`, tus: (c) => c.upload(single), ietf: (c) => c.draftUpload(single) },
    { title: `one ${label(single)} upload in its creation request`, tus: (c) => c.create(single, single), ietf: (c) => c.draftUpload(single, { inCreation: true }) },
  ];
  const rows = [];
  try {
    await against(server, 1, async (client) => {
      await digested(server, origin, await client.upload(16 * MiB));
      await digested(server, origin, await client.draftUpload(16 * MiB));
    });
    for (const form of forms) {
      const values = { tus: [], ietf: [] };
      for (let round = 1; round <= reps; round++) {
        for (const side of round % 2 ? ['tus', 'ietf'] : ['ietf', 'tus']) {
          const value = await against(server, 1, async (client) => {
            const start = performance.now();
            const url = await form[side](client);
            const speed = single / MiB / seconds(start);
            await digested(server, origin, url);
            return speed;
          });
          values[side].push(value);
          console.log(`  ${form.title} · round ${round}/${reps} · ${side === 'tus' ? 'tus 1.0' : 'IETF draft'}: ${formatValue(value, 'MiB/s')}`);
        }
      }
      rows.push({ title: form.title, unit: 'MiB/s', values, ratios: true });
    }
  } finally {
    await server.stop();
  }
  const table = markdownTable(rows, [
    { key: 'tus', label: 'tus 1.0' },
    { key: 'ietf', label: 'IETF draft (interop 8)' },
  ]);
  const verdict = rows
    .map((row) => {
      const ratio = pairRatio(row.values.ietf, row.values.tus);
      return `${row.title}: draft / tus ${formatRatio(ratio)}, ${ratio >= 0.95 ? 'within' : 'not within'} 5%.`;
    })
    .join(' ');
  const note = `nestjs-tus (the sample, file backend): ${reps} round(s) per form, the order alternating; medians; the ratio is the median of per-round ratios.`;
  return { table, verdict: `Target (the IETF draft issue): the draft within 5% of tus 1.0. ${verdict}`, note };
}

/**
 * The issue's S3 target: the same `single` bytes (a) through the sample on the S3 backend, one
 * tus PATCH, and (b) straight to the same bucket with @aws-sdk/lib-storage `Upload`, same part
 * size and parts in flight, in rounds a b a b ...; plus the sample's peak RSS above its idle RSS
 * during (a). Each object is deleted (and RGW made to reclaim it) right after its measurement, and
 * (b) waits until the sample has read back and hashed (a) (its upload digest listener), so no
 * upload shares the machine with another one's aftermath.
 */
async function s3Scenario(work) {
  const size = single;
  const values = { sdk: [], 'nestjs-s3': [] };
  const above = { 'nestjs-s3': [] };
  const idles = [];
  // A freshly started sample per upload, its first request out of the way, as in the memory
  // scenario: its idle RSS is then not swollen by the garbage of an earlier upload and read-back.
  const viaTus = async (length, memory) => {
    const server = await new ServerProcess(s3Sample, join(work, 'nestjs-s3-vs-sdk')).start();
    try {
      await against(server, 1, (client) => client.create(1024));
      return await tusUpload(server, length, memory);
    } finally {
      await server.stop();
    }
  };
  const tusUpload = async (server, length, memory) => {
    const origin = new URL(server.url).origin;
    const client = new TusClient(server.url, { maxSockets: 1 });
    let url;
    let elapsed;
    try {
      const upload = async () => {
        const start = performance.now();
        url = await client.upload(length);
        elapsed = seconds(start);
      };
      const rss = memory ? await peakMemoryDuring(server.pid, upload) : await upload();
      await digested(server, origin, url);
      return { elapsed, rss };
    } catch (error) {
      throw server.failure(error.message);
    } finally {
      if (url) await client.terminate(url);
      client.close();
      await s3.gc();
    }
  };
  const viaSdk = async (length, round) => {
    const key = `lib-storage-${process.pid}-${round}`;
    try {
      const start = performance.now();
      await libStorageUpload(s3, key, length);
      return seconds(start);
    } finally {
      await deleteObject(s3, key).catch(() => undefined);
      await s3.gc();
    }
  };
  // Warm-up (RGW, the runner's SDK): one 16 MiB upload each.
  await viaTus(16 * MiB, false);
  await viaSdk(16 * MiB, 'warm-up');
  for (let round = 1; round <= s3Rounds; round++) {
    const { elapsed, rss } = await viaTus(size, true);
    values['nestjs-s3'].push(size / MiB / elapsed);
    above['nestjs-s3'].push(rss.peak - rss.idle);
    idles.push(rss.idle);
    console.log(
      `  one ${label(size)} upload to S3 · round ${round}/${s3Rounds} · nestjs-tus (S3): ${formatValue(size / MiB / elapsed, 'MiB/s')}, peak RSS ${formatValue(rss.peak, 'MiB')} (idle ${formatValue(rss.idle, 'MiB')}, +${formatValue(rss.peak - rss.idle, 'MiB')})`,
    );
    const sdkSeconds = await viaSdk(size, round);
    values.sdk.push(size / MiB / sdkSeconds);
    console.log(`  one ${label(size)} upload to S3 · round ${round}/${s3Rounds} · lib-storage: ${formatValue(size / MiB / sdkSeconds, 'MiB/s')}`);
  }
  const columns = [
    { key: 'sdk', label: 'lib-storage' },
    { key: 'nestjs-s3', label: 'nestjs-tus (S3)' },
  ];
  const parts = `${PART_SIZE / MiB} MiB parts, ${QUEUE_SIZE} in flight`;
  const table = markdownTable(
    [
      { title: `one ${label(size)} upload to S3 (${parts})`, unit: 'MiB/s', values, ratios: true },
      { title: `sample's peak RSS above idle during it (idle ${formatValue(median(idles), 'MiB')})`, unit: 'MiB', values: above, ratios: false },
    ],
    columns,
  );
  const ratio = pairRatio(values['nestjs-s3'], values.sdk);
  // A bound holds for every upload: the verdict takes the largest round, not the median.
  const growth = Math.max(...above['nestjs-s3']);
  const bound = PART_SIZE * (QUEUE_SIZE + 2);
  const verdict = [
    `Targets (issue 6): nestjs-tus (S3) / lib-storage at least 0.80: ${formatRatio(ratio)}, ${ratio >= 0.8 ? 'met' : 'not met'};`,
    `peak RSS above idle at most partSize × (in-flight parts + 2) = ${formatValue(bound, 'MiB')}: ${formatValue(growth, 'MiB')} in the largest round, ${growth <= bound ? 'met' : 'not met'}.`,
  ].join(' ');
  return { table, verdict };
}

/** Waits until the sample has hashed the completed upload at `url` (it reads it back from S3). */
async function digested(server, origin, url) {
  const id = url.pathname.split('/').pop();
  const deadline = performance.now() + 600_000;
  while (performance.now() < deadline) {
    if (server.tail.some((line) => line.includes(`could not hash upload ${id}`))) throw server.failure(`could not hash upload ${id}`);
    const response = await fetch(`${origin}/api/uploads`);
    const list = await response.json();
    if (list.some((upload) => upload.id === id)) return;
    await sleep(100);
  }
  console.log(`warning: the sample had not hashed upload ${id} after 10 minutes; going on`);
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
