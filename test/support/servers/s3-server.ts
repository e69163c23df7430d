import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { s3ServerEnv, type S3TestServer } from './rgw.mjs';

export { exportS3Server, sampleS3Env, startS3Server, type S3TestServer } from './rgw.mjs';

/**
 * The server a test file uses, from the environment that the jest globalSetup filled
 * (`S3_ENDPOINT`, `S3_ACCESS_KEY_ID`, `S3_SECRET_ACCESS_KEY`) with {@link startS3Server}.
 */
export function s3ServerFromEnv(): S3TestServer {
  return { ...s3ServerEnv(), stop: async () => undefined };
}

/**
 * A client as the README recommends for S3-compatible servers: path-style, checksums only when
 * required; `config` adds to it (e.g. the timeouts of the network-fault tests).
 */
export function createTestS3Client(
  server: Pick<S3TestServer, 'endpoint' | 'accessKeyId' | 'secretAccessKey' | 'region'>,
  config: Pick<S3ClientConfig, 'requestHandler' | 'maxAttempts'> = {},
): S3Client {
  // The SDK warns once per process that its 2027 releases need Node 22: noise in every test file.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    endpoint: server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    ...config,
  });
}

/** A fresh bucket for one test file; `dispose()` empties and deletes it. */
export async function createTestBucket(client: S3Client, label = 'tus'): Promise<{ bucket: string; dispose(): Promise<void> }> {
  const bucket = `${label.toLowerCase().replace(/[^a-z0-9-]/g, '-').slice(0, 40)}-${randomBytes(4).toString('hex')}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return { bucket, dispose: () => deleteBucket(client, bucket) };
}

async function deleteBucket(client: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const uploads = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    await Promise.all(
      (uploads.Uploads ?? []).map((upload) =>
        client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId })),
      ),
    );
    const objects = await client.send(new ListObjectsV2Command({ Bucket: bucket }));
    await Promise.all((objects.Contents ?? []).map((object) => client.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }))));
    if (!uploads.IsTruncated && !objects.IsTruncated) break;
  }
  await client.send(new DeleteBucketCommand({ Bucket: bucket }));
}

