import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isAlive } from '../../../libs/tus/src/storage/process-identity.js';
import { eventually } from '../eventually.js';
import { freeRgwPort, startRgw, type S3TestServer } from './rgw.mjs';

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

/**
 * Starts a private RGW (about 2 s on memstore) on the first free port set from 7600, in a folder of
 * its own. Two suites of one run (or two runs on one machine) may pick the same free port at the
 * same moment: a start that fails tries the next free port.
 */
export async function startPrivateRgw(): Promise<PrivateRgw> {
  let from = 7600;
  let rgw: Awaited<ReturnType<typeof startRgw>> | undefined;
  let lastError: unknown;
  for (let attempt = 0; attempt < 4 && rgw === undefined; attempt++) {
    const port = await freeRgwPort(from, 40);
    if (port === undefined) break;
    const base = await mkdtemp(join(tmpdir(), `nestjs-tus-ceph-private-${port}-`));
    try {
      rgw = await startRgw({ port, base, install: false, timeoutMs: 120_000 });
    } catch (error) {
      lastError = error;
      await rm(base, { recursive: true, force: true });
      from = port + 2;
    }
  }
  if (rgw === undefined) throw lastError ?? new Error('no free port set for a private RGW from 7600');
  const conf = `${rgw.base}/ceph.conf`;
  const pidFile = `${rgw.base}/run/client.rgw.a.pid`;
  const gatewayPid = async () => Number((await readFile(pidFile, 'utf8')).trim());
  return {
    endpoint: rgw.endpoint,
    accessKeyId: rgw.accessKeyId,
    secretAccessKey: rgw.secretAccessKey,
    region: rgw.region,
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
      await eventually(() => answers(rgw.endpoint), 30_000, `the private RGW on ${rgw.endpoint} answering again`);
    },
    stop: rgw.stop,
  };
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
