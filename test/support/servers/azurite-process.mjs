// Plain ESM JavaScript, not TypeScript: jest loads globalSetup files with Node's own module loader,
// which cannot import .ts files (as rgw.mjs). Types: azurite-process.d.mts.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

/** Azurite's development account: public and fixed (the same in every Azurite). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

const AZURITE_BLOB = join(dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist/src/blob/main.js');

/** The connection string of the development account on an Azurite at `port` on loopback. */
export function azuriteConnectionString(port) {
  return `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=http://127.0.0.1:${port}/${AZURITE_ACCOUNT};`;
}

/**
 * Starts `azurite-blob` (the npm devDependency) with its data in a temporary folder:
 * `--skipApiVersionCheck` (the SDK speaks a newer API version than the emulator knows), `--loose`
 * (it ignores headers it does not support instead of failing), `--disableTelemetry` (no traffic
 * off this machine). Two callers may pick the same free port at once: a failed start tries
 * another. The process dies with the one that started it (a test file that failed before its
 * afterAll, a killed worker: a leftover would hold its port and folder for good).
 *
 * `at.port` and `at.location` start it again where a stopped one was (the same port, the same
 * data); a folder given is the caller's, left in place by `stop()`.
 */
export async function startAzuriteProcess(at = {}) {
  let lastError;
  for (let attempt = 0; attempt < 4; attempt++) {
    // A port just freed by a stopped Azurite may linger a moment: the same one is tried again.
    if (attempt > 0 && at.port !== undefined) await new Promise((resolve) => setTimeout(resolve, 250));
    const port = at.port ?? (await freePort());
    const location = at.location ?? (await mkdtemp(join(tmpdir(), `nestjs-tus-azurite-${port}-`)));
    const removeLocation = () => (at.location === undefined ? rm(location, { recursive: true, force: true }) : Promise.resolve());
    const child = spawn(
      process.execPath,
      [AZURITE_BLOB, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', location, '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    try {
      await listening(child);
      return {
        port,
        connectionString: azuriteConnectionString(port),
        location,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            await once(child, 'exit');
          }
          await removeLocation();
        },
      };
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      await removeLocation();
    }
  }
  throw lastError;
}

/**
 * Resolves once Azurite says it listens; rejects when it exits first or says nothing for 30 s. Its
 * output is read for as long as it runs (a pipe nobody reads would block it once full) and kept
 * only until then.
 */
function listening(child) {
  return new Promise((resolve, reject) => {
    let output = '';
    let started = false;
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 30 s:\n${output}`)), 30_000);
    const onData = (data) => {
      if (started) return;
      output += data.toString();
      if (/successfully listens/.test(output)) {
        started = true;
        output = '';
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The run's shared Azurite, for Jest's workers: `AZURITE_PORT`, which they inherit (the global
 * setup sets it with {@link exportAzurite}).
 */
export function exportAzurite(server) {
  process.env.AZURITE_PORT = String(server.port);
}

/** The port of the run's shared Azurite; throws when the global setup did not start one. */
export function azuritePortFromEnv() {
  const port = Number(process.env.AZURITE_PORT);
  if (!Number.isInteger(port) || port <= 0) {
    throw new Error('AZURITE_PORT is not set: the jest globalSetup starts the shared Azurite (test/support/servers/azurite-process.mjs) and exports it.');
  }
  return port;
}
