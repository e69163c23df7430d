// Plain ESM JavaScript, not TypeScript: jest loads globalSetup files with Node's own module loader,
// which cannot import .ts files. Types: rgw.d.mts.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const SCRIPTS = fileURLToPath(new URL('../../../scripts/s3/', import.meta.url));
const REGION = 'us-east-1';

export const HOW_TO_GET_AN_S3_SERVER = [
  'The S3 tests need a real S3 server. Either:',
  ' - install Ceph RGW (Debian/Ubuntu, as root): apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw ceph-common curl',
  '   (scripts/s3/rgw-start.sh then starts it on loopback; it runs that install itself when it runs as root), or',
  ' - point the tests at a server of yours: S3_ENDPOINT=http://host:port S3_ACCESS_KEY_ID=... S3_SECRET_ACCESS_KEY=...',
  '   (it must honour conditional writes: PutObject with If-Match / If-None-Match).',
].join('\n');

/**
 * The server the tests use: the one named by S3_ENDPOINT (keys from S3_ACCESS_KEY_ID and
 * S3_SECRET_ACCESS_KEY; stop() leaves it alone), or else a Ceph RGW started on loopback with
 * scripts/s3/rgw-start.sh (stop() stops it). Throws, saying what to install or set, when neither
 * is possible: the S3 tests never skip.
 */
export async function startS3Server() {
  if (process.env.S3_ENDPOINT) return { ...s3ServerEnv(), stop: async () => undefined };
  // Another run on this machine (a second checkout's tests) may pick the same free port at the same
  // moment: each try takes the next free port and a folder of its own.
  let from = Number(process.env.RGW_PORT ?? 7480);
  let lastError;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freeRgwPort(from, 20);
    if (port === undefined) break;
    const base = await mkdtemp(join(tmpdir(), `nestjs-tus-ceph-${port}-`));
    try {
      // Room for a first-time apt-get install of the Ceph packages.
      const { base: _base, ...server } = await startRgw({ port, base, timeoutMs: 600_000 });
      return server;
    } catch (error) {
      lastError = error;
      await rm(base, { recursive: true, force: true }).catch(() => undefined);
      from = port + 2;
    }
  }
  throw lastError ?? new Error(`No free port for the S3 test server from ${process.env.RGW_PORT ?? 7480}: set RGW_PORT, or S3_ENDPOINT to use a running server.`);
}

/**
 * Starts a Ceph RGW on loopback with scripts/s3/rgw-start.sh on `port` (see {@link freeRgwPort}),
 * its data under `base` (default: the script's own, from `port`); `install: false` forbids the
 * script's apt-get install. Resolves once it answers, with its keys, its folder and stop().
 */
export async function startRgw({ port, base, install = true, timeoutMs }) {
  let stdout;
  try {
    ({ stdout } = await run('bash', [`${SCRIPTS}rgw-start.sh`], {
      env: { ...process.env, RGW_PORT: String(port), ...(base === undefined ? {} : { CEPH_BASE: base }), ...(install ? {} : { CEPH_NO_INSTALL: '1' }) },
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const stderr = String(error.stderr ?? '').trim().split('\n').slice(-25).join('\n');
    throw new Error(`Could not start the S3 test server (scripts/s3/rgw-start.sh):\n${stderr || error.message}\n\n${HOW_TO_GET_AN_S3_SERVER}`);
  }
  const line = stdout.trim().split('\n').at(-1) ?? '';
  const fields = Object.fromEntries(line.split(' ').map((pair) => pair.split('=', 2)));
  if (!fields.S3_ENDPOINT || !fields.CEPH_BASE) {
    throw new Error(`Unexpected output of scripts/s3/rgw-start.sh: ${stdout}\n\n${HOW_TO_GET_AN_S3_SERVER}`);
  }
  return {
    endpoint: fields.S3_ENDPOINT,
    accessKeyId: fields.S3_ACCESS_KEY_ID,
    secretAccessKey: fields.S3_SECRET_ACCESS_KEY,
    region: REGION,
    base: fields.CEPH_BASE,
    stop: async () => {
      await run('bash', [`${SCRIPTS}rgw-stop.sh`], { env: { ...process.env, CEPH_BASE: fields.CEPH_BASE } });
    },
  };
}

/** Sets S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY and S3_REGION, which jest's workers inherit. */
export function exportS3Server(server) {
  process.env.S3_ENDPOINT = server.endpoint;
  process.env.S3_ACCESS_KEY_ID = server.accessKeyId;
  process.env.S3_SECRET_ACCESS_KEY = server.secretAccessKey;
  process.env.S3_REGION = server.region;
}

/** The server described by the environment; throws when S3_ENDPOINT or its keys are missing. */
export function s3ServerEnv() {
  const { S3_ENDPOINT, S3_ACCESS_KEY_ID, S3_SECRET_ACCESS_KEY, S3_REGION } = process.env;
  if (!S3_ENDPOINT) {
    throw new Error(
      `S3_ENDPOINT is not set: the jest globalSetup starts the S3 test server with startS3Server() (test/support/servers/rgw.mjs) and exports it.\n\n${HOW_TO_GET_AN_S3_SERVER}`,
    );
  }
  if (!S3_ACCESS_KEY_ID || !S3_SECRET_ACCESS_KEY) {
    throw new Error(`S3_ENDPOINT is set (${S3_ENDPOINT}) but S3_ACCESS_KEY_ID or S3_SECRET_ACCESS_KEY is not.`);
  }
  return { endpoint: S3_ENDPOINT, accessKeyId: S3_ACCESS_KEY_ID, secretAccessKey: S3_SECRET_ACCESS_KEY, region: S3_REGION ?? REGION };
}

/**
 * The first port of `tries` from `start` (every other one) that is free together with the two
 * monitor ports rgw-start.sh derives from it; undefined when none is.
 */
export async function freeRgwPort(start, tries) {
  for (let port = start; port < start + 2 * tries; port += 2) {
    const shift = (port - 7480) * 2;
    const ports = [port, 3300 + shift, 6789 + shift];
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return port;
  }
  return undefined;
}

function isFree(port) {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** The sample app's environment for storing in `bucket` on `server` (`TUS_STORAGE=s3`). */
export function sampleS3Env(server, bucket) {
  return {
    TUS_STORAGE: 's3',
    S3_ENDPOINT: server.endpoint,
    S3_BUCKET: bucket,
    S3_REGION: server.region,
    S3_ACCESS_KEY_ID: server.accessKeyId,
    S3_SECRET_ACCESS_KEY: server.secretAccessKey,
    S3_FORCE_PATH_STYLE: 'true',
  };
}
