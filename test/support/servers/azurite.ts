import { BlobServiceClient, ContainerClient, newPipeline, StorageSharedKeyCredential, type StoragePipelineOptions } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AzureBlobStorageBackend, type AzureBlobStorageOptions } from 'nestjs-tus/azure';
import type { BackendFixture } from '../apps/backends.js';
import { registerAzureBackend, StagedBlockTap, tappedContainer } from '../storage/azure-staged-tap.js';
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY, azuriteConnectionString, azuritePortFromEnv, startAzuriteProcess } from './azurite-process.mjs';

/** An Azurite blob service on a loopback port: the run's shared one, or a test file's own. */
export interface Azurite {
  port: number;
  /** `AZURE_STORAGE_CONNECTION_STRING` for it. */
  connectionString: string;
  /** A client on the account, for the test to read and write behind the backend's back. */
  service: BlobServiceClient;
  /** A fresh container; `dispose()` deletes it. */
  createContainer(label?: string): Promise<{ container: ContainerClient; dispose(): Promise<void> }>;
  /** Stops a test file's own Azurite; does nothing to the shared one. */
  stop(): Promise<void>;
}

/**
 * An Azurite of the test file's own (see startAzuriteProcess in azurite-process.mjs): for a test
 * that stops it. Every other test uses {@link sharedAzurite}, started once per run.
 */
export async function startAzurite(): Promise<Azurite> {
  const started = await startAzuriteProcess();
  return onPort(started.port, started.stop);
}

/** An Azurite of a test file's own that the test takes down and brings back (see {@link startRestartableAzurite}). */
export interface RestartableAzurite extends Azurite {
  /** Stops it (SIGTERM) and waits until it is gone; its data stays. */
  down(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it listens. */
  up(): Promise<void>;
}

/**
 * An Azurite of the test file's own that can go down and come back, as the service's front end
 * does in a restart: stopped gracefully, because Azurite keeps its metadata in memory and saves it
 * every 5 s (a SIGKILL would lose writes it had acknowledged, which the real service never does).
 */
export async function startRestartableAzurite(): Promise<RestartableAzurite> {
  const location = await mkdtemp(join(tmpdir(), 'nestjs-tus-azurite-restart-'));
  const first = await startAzuriteProcess({ location });
  const { port } = first;
  let running: { stop(): Promise<void> } | undefined = first;
  const down = async () => {
    const stopping = running;
    running = undefined;
    await stopping?.stop();
  };
  const azurite = onPort(port, async () => {
    await down();
    await rm(location, { recursive: true, force: true });
  });
  return {
    ...azurite,
    down,
    up: async () => {
      running = await startAzuriteProcess({ port, location });
    },
  };
}

/**
 * The Azurite the jest globalSetup started for the whole run (`AZURITE_PORT`); every test file
 * makes containers of its own on it. `stop()` leaves it running.
 */
export function sharedAzurite(): Azurite {
  return onPort(azuritePortFromEnv(), async () => undefined);
}

function onPort(port: number, stop: () => Promise<void>): Azurite {
  const connectionString = azuriteConnectionString(port);
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
    stop,
  };
}

/**
 * A client on `container` of the development account reached at `origin` (Azurite's, or a proxy's in
 * front of it), signed with the account's shared key as a client from a connection string is;
 * `options` sets its retries. A silent connection is the backend's to end (its `requestTimeoutMs`):
 * the SDK has no client-side deadline of its own.
 */
export function containerClientAt(origin: string, container: string, options: StoragePipelineOptions = {}): ContainerClient {
  const pipeline = newPipeline(new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY), options);
  return new ContainerClient(`${origin}/${AZURITE_ACCOUNT}/${container}`, pipeline);
}

/** The sample app's environment for storing in `container` (`TUS_STORAGE=azure`). */
export function sampleAzureEnv(azurite: Azurite, container: string): Record<string, string> {
  return { TUS_STORAGE: 'azure', AZURE_STORAGE_CONNECTION_STRING: azurite.connectionString, AZURE_CONTAINER: container };
}

/**
 * The Azure backend as a fixture of `startTusApp` (`extra.backend`): a fresh container on
 * `azurite` per app, deleted by `cleanup`. The backend's client keeps the bytes of the blocks it
 * stages (see StagedBlockTap), so that `storedBytesOf` can read an unfinished upload.
 */
export function azureBackendFixture(azurite: Azurite, options: Partial<AzureBlobStorageOptions> = {}): BackendFixture & { containers: ContainerClient[] } {
  const containers: ContainerClient[] = [];
  return {
    name: 'azure',
    kind: 'object store',
    label: 'azureblob',
    containers,
    create: async () => {
      const { container, dispose } = await azurite.createContainer('e2e');
      containers.push(container);
      const tap = new StagedBlockTap();
      const backend = new AzureBlobStorageBackend({ containerClient: tappedContainer(azurite.port, container.containerName, tap), keyPrefix: 'uploads/', ...options });
      registerAzureBackend(backend, { container, tap });
      return { options: { storage: backend }, cleanup: dispose };
    },
  };
}
