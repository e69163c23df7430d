import type { TusModuleOptions } from 'nestjs-tus';
import type { SampleConfig } from './sample.config.js';

/**
 * The storage part of the module options: the file backend in `uploadDir`, or S3. The AWS SDK is
 * loaded only for S3, so the file-backed sample neither needs it nor pays for it.
 */
export async function sampleStorage(config: SampleConfig): Promise<Pick<TusModuleOptions, 'uploadDir' | 'storage'>> {
  if (config.storage === 'file') return { uploadDir: config.uploadDir };
  const [{ S3Client }, { S3StorageBackend }] = await Promise.all([import('@aws-sdk/client-s3'), import('nestjs-tus/s3')]);
  const { endpoint, region, forcePathStyle, accessKeyId, secretAccessKey, bucket, keyPrefix } = config.s3;
  const client = new S3Client({
    endpoint,
    region,
    forcePathStyle,
    credentials: accessKeyId && secretAccessKey ? { accessKeyId, secretAccessKey } : undefined,
    // Streamed part bodies: S3-compatible servers often refuse the SDK's default aws-chunked checksums.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return { storage: new S3StorageBackend({ client, bucket, keyPrefix }) };
}
