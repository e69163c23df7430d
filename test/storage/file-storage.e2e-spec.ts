import { FileStorageBackend } from 'nestjs-tus';
import { describeStorageBackend } from '../support/storage/storage-backend.suite.js';
import { tempDir } from '../support/apps/tus-app.js';

describeStorageBackend('file', async () => {
  const dir = await tempDir();
  const options = { directory: dir.path, lockTimeoutMs: 500 };
  const backend = new FileStorageBackend(options);
  await backend.init();
  return { backend, twin: new FileStorageBackend(options), cleanup: dir.cleanup };
});
