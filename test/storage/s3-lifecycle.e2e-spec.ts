import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { GetObjectTaggingCommand, PutBucketLifecycleConfigurationCommand, type S3Client } from '@aws-sdk/client-s3';
import { S3StorageBackend } from 'nestjs-tus/s3';
import { chunkOf } from '../support/storage/backend-io.js';
import { keysUnder } from '../support/storage/s3-inspection.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';

describe('S3 bucket lifecycle for abandoned uploads (the README rule)', () => {
  let client: S3Client;
  let bucket: { bucket: string; dispose(): Promise<void> };

  beforeAll(async () => {
    client = createTestS3Client(s3ServerFromEnv());
    bucket = await createTestBucket(client, 'lifecycle');
  });
  afterAll(async () => {
    await bucket.dispose();
    client.destroy();
  });

  it('tags .pending objects, so that a lifecycle rule can expire them', async () => {
    const backend = new S3StorageBackend({ client, bucket: bucket.bucket, keyPrefix: 'uploads/' });
    const upload = await backend.create(newUpload(10 * 1024 * 1024));
    await backend.write(upload, chunkOf([Buffer.alloc(1000, 1)]));
    const pending = (await keysUnder(client, bucket.bucket, `uploads/${upload.id}.pending`))[0];
    expect(pending).toBeDefined();
    const tags = await client.send(new GetObjectTaggingCommand({ Bucket: bucket.bucket, Key: pending }));
    expect(tags.TagSet).toEqual([{ Key: 'tus-object', Value: 'pending' }]);
  });

  it('the server accepts the README lifecycle configuration', async () => {
    const response = await client.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket.bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'abort-stale-multipart', Status: 'Enabled', Filter: { Prefix: 'uploads/' }, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
            {
              ID: 'expire-stale-pending',
              Status: 'Enabled',
              Filter: { And: { Prefix: 'uploads/', Tags: [{ Key: 'tus-object', Value: 'pending' }] } },
              Expiration: { Days: 7 },
            },
          ],
        },
      }),
    );
    expect(response.$metadata.httpStatusCode).toBe(200);
  });
});
