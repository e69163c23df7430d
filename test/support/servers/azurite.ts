import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { AzureBlobStorageBackend, type AzureBlobStorageOptions } from 'nestjs-tus/azure';
import type { BackendFixture } from '../apps/backends.js';
import { registerAzureBackend, StagedBlockTap, tappedContainer } from '../storage/azure-staged-tap.js';
import { azuriteConnectionString, azuritePortFromEnv, startAzuriteProcess } from './azurite-process.mjs';

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
