// The module-only server (nestjs-minimal.mjs) as WORKERS processes behind node:cluster, sharing one
// port and one upload folder: issue 16's scaling scenario, the cross-process lock in play. Prints
// its ready line once every worker listens. WORKERS=1 is the same set-up with one process, the
// yardstick of the 2-process ratio.
import cluster from 'node:cluster';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const workers = Number(process.env.WORKERS ?? 2);
const host = process.env.HOST || '127.0.0.1';
const path = process.env.TUS_PATH || '/files';

cluster.setupPrimary({ exec: join(dirname(fileURLToPath(import.meta.url)), 'nestjs-minimal.mjs'), silent: true });
let port;
let listening = 0;
for (let i = 0; i < workers; i++) {
  const worker = cluster.fork();
  // Each worker prints its own ready line: kept from the bench's reader, which waits for the last.
  worker.process.stdout.resume();
  worker.process.stderr.pipe(process.stderr);
  worker.on('listening', (address) => {
    port = address.port;
    if (++listening === workers) console.log(`nestjs-tus (module only, ${workers} processes) listening: http://${host}:${port}${path}`);
  });
}
cluster.on('exit', (worker, code, signal) => {
  if (signal !== 'SIGTERM' && code !== 0) console.error(`worker ${worker.process.pid} exited (${signal ?? code})`);
});
process.on('SIGTERM', () => {
  const running = Object.values(cluster.workers ?? {});
  let left = running.length;
  if (left === 0) process.exit(0);
  for (const worker of running) {
    worker.once('exit', () => --left === 0 && process.exit(0));
    worker.process.kill('SIGTERM');
  }
});
