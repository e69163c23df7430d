import { afterAll } from '@jest/globals';
import { AzureBlobStorageBackend } from '../../libs/tus/src/storage/azure/azure-storage.backend.js';
import { startAzurite, type Azurite } from '../support/servers/azurite.js';
import { describeStorageBackend } from '../support/storage/storage-backend.suite.js';

let azurite: Azurite | undefined;
afterAll(() => azurite?.stop());

describeStorageBackend('azure', async () => {
  azurite = await startAzurite();
  const { container, dispose } = await azurite.createContainer('azure-contract');
  const options = { containerClient: container, keyPrefix: 'contract/', lockTimeoutMs: 500 };
  const backend = new AzureBlobStorageBackend(options);
  await backend.init();
  return { backend, twin: new AzureBlobStorageBackend(options), cleanup: dispose };
});
