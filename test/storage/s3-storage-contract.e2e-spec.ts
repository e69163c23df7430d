import { S3StorageBackend } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';
import { describeStorageBackend } from '../support/storage/storage-backend.suite.js';

describeStorageBackend('s3', async () => {
  const client = createTestS3Client(s3ServerFromEnv());
  const { bucket, dispose } = await createTestBucket(client, 's3-contract');
  const options = { client, bucket, keyPrefix: 'contract/', lockTimeoutMs: 500 };
  const backend = new S3StorageBackend(options);
  await backend.init();
  return {
    backend,
    twin: new S3StorageBackend(options),
    cleanup: async () => {
      await dispose();
      client.destroy();
    },
  };
});
