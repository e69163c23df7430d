import { execFile, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { S3TestServer } from './rgw.mjs';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../scripts/s3/', import.meta.url));

/**
 * A Ceph RGW of one test's own (its own mon, OSD and gateway, on ports of its own), for a test
 * that must take the S3 server down: the shared server other test files use is never touched.
 * Only the gateway (radosgw) goes down; the mon and the OSD keep the data, as when an S3 front
 * end restarts.
 */
export interface PrivateRgw extends S3TestServer {
  /** Kills the gateway process (SIGKILL: a crash, not a graceful stop) and waits until it is gone. */
  killGateway(): Promise<void>;
  /** Starts the gateway again on the same port; resolves once it answers S3 requests. */
  startGateway(): Promise<void>;
}

/** Starts a private RGW (about 2 s on memstore) on the first free port set from 7600. */
export async function startPrivateRgw(): Promise<PrivateRgw> {
  const port = await freeRgwPort(7600);
  const base = `/tmp/nestjs-tus-ceph-private-${port}`;
  let stdout: string;
  try {
    ({ stdout } = await run('bash', [`${SCRIPTS}rgw-start.sh`], {
      env: { ...process.env, RGW_PORT: String(port), CEPH_BASE: base, CEPH_NO_INSTALL: '1' },
      timeout: 120_000,
    }));
  } catch (error) {
    throw new Error(`Could not start a private RGW (scripts/s3/rgw-start.sh): ${String((error as { stderr?: string }).stderr ?? error)}`);
  }
  const fields = Object.fromEntries((stdout.trim().split('\n').at(-1) ?? '').split(' ').map((pair) => pair.split('=', 2)));
  const endpoint = fields.S3_ENDPOINT!;
  const conf = `${base}/ceph.conf`;
  const pidFile = `${base}/run/client.rgw.a.pid`;
  const gatewayPid = async () => Number((await readFile(pidFile, 'utf8')).trim());
  return {
    endpoint,
    accessKeyId: fields.S3_ACCESS_KEY_ID!,
    secretAccessKey: fields.S3_SECRET_ACCESS_KEY!,
    region: 'us-east-1',
    killGateway: async () => {
      const pid = await gatewayPid();
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(20);
    },
    startGateway: async () => {
      // radosgw daemonizes: the command returns once the daemon forked, its pid in run/.
      await new Promise<void>((resolve, reject) => {
        const child = spawn('radosgw', ['-c', conf, '-n', 'client.rgw.a'], { stdio: 'ignore' });
        child.once('error', reject);
        child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`radosgw exited with ${code}`))));
      });
      const deadline = Date.now() + 30_000;
      while (!(await answers(endpoint))) {
        if (Date.now() > deadline) throw new Error(`the private RGW on ${endpoint} did not come back within 30 s`);
        await sleep(50);
      }
    },
    stop: async () => {
      await run('bash', [`${SCRIPTS}rgw-stop.sh`], { env: { ...process.env, CEPH_BASE: base } });
    },
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function answers(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(endpoint, { agent: false, timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/** The first RGW port from `start` free together with the two monitor ports rgw-start.sh derives from it. */
async function freeRgwPort(start: number): Promise<number> {
  for (let port = start; port < start + 80; port += 2) {
    const shift = (port - 7480) * 2;
    if ((await Promise.all([port, 3300 + shift, 6789 + shift].map(isFree))).every(Boolean)) return port;
  }
  throw new Error(`no free port set for a private RGW from ${start}`);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
