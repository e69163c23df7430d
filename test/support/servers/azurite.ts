import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { AzureBlobStorageBackend, type AzureBlobStorageOptions } from 'nestjs-tus/azure';
import type { BackendFixture } from '../apps/backends.js';

/** Azurite's development account: public and fixed (the same in every Azurite). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** An Azurite blob service of one test file's own, on a free loopback port. */
export interface Azurite {
  port: number;
  /** `AZURE_STORAGE_CONNECTION_STRING` for it. */
  connectionString: string;
  /** A client on the account, for the test to read and write behind the backend's back. */
  service: BlobServiceClient;
  /** A fresh container; `dispose()` deletes it. */
  createContainer(label?: string): Promise<{ container: ContainerClient; dispose(): Promise<void> }>;
  stop(): Promise<void>;
}

const AZURITE_BLOB = join(dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist/src/blob/main.js');

/**
 * Starts `azurite-blob` (the npm devDependency) with its data in a temporary folder:
 * `--skipApiVersionCheck` (the SDK speaks a newer API version than the emulator knows), `--loose`
 * (it ignores headers it does not support instead of failing), `--disableTelemetry` (no traffic
 * off this machine). Two test files may pick the same free port at once: a failed start tries
 * another.
 */
export async function startAzurite(): Promise<Azurite> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 4; attempt++) {
    const port = await freePort();
    const location = await mkdtemp(join(tmpdir(), `nestjs-tus-azurite-${port}-`));
    const child = spawn(
      process.execPath,
      [AZURITE_BLOB, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--location', location, '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    // A test file that dies (a failed assertion before its afterAll, a killed worker) takes its
    // Azurite with it: a leftover would hold its port and folder for good.
    const reap = () => child.kill('SIGKILL');
    process.once('exit', reap);
    child.once('exit', () => process.off('exit', reap));
    try {
      await listening(child);
      return running(port, child, location);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      await rm(location, { recursive: true, force: true });
    }
  }
  throw lastError;
}

function running(port: number, child: ChildProcess, location: string): Azurite {
  const connectionString =
    `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};` + `BlobEndpoint=http://127.0.0.1:${port}/${ACCOUNT};`;
  const service = BlobServiceClient.fromConnectionString(connectionString);
  return {
    port,
    connectionString,
    service,
    createContainer: async (label = 'tus') => {
      const name = `${label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
      const container = service.getContainerClient(name);
      await container.create();
      return { container, dispose: async () => void (await container.deleteIfExists()) };
    },
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(location, { recursive: true, force: true });
    },
  };
}

/** Resolves once Azurite says it listens; rejects when it exits first or says nothing for 30 s. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`Azurite did not start within 30 s:\n${output}`)), 30_000);
    const onData = (data: Buffer) => {
      output += data.toString();
      if (/successfully listens/.test(output)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Azurite exited with ${code}:\n${output}`));
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** The sample app's environment for storing in `container` (`TUS_STORAGE=azure`). */
export function sampleAzureEnv(azurite: Azurite, container: string): Record<string, string> {
  return { TUS_STORAGE: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_CONTAINER: container };
}

/**
 * The Azure backend as a fixture of `startTusApp` (`extra.backend`): a fresh container on
 * `azurite` per app, deleted by `cleanup`.
 */
export function azureBackendFixture(azurite: Azurite, options: Partial<AzureBlobStorageOptions> = {}): BackendFixture & { containers: ContainerClient[] } {
  const containers: ContainerClient[] = [];
  return {
    name: 'azure' as BackendFixture['name'],
    containers,
    create: async () => {
      const { container, dispose } = await azurite.createContainer('e2e');
      containers.push(container);
      return { options: { storage: new AzureBlobStorageBackend({ containerClient: container, keyPrefix: 'uploads/', ...options }) }, cleanup: dispose };
    },
  };
}
