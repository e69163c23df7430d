import type { TusModuleOptions } from 'nestjs-tus';
import type { SampleConfig } from './sample.config.js';

/**
 * The storage part of the module options: the file backend in `uploadDir`, S3, or Azure Blob
 * Storage. Each cloud SDK is loaded only for its backend, so the file-backed sample neither needs
 * them nor pays for them.
 */
export async function sampleStorage(config: SampleConfig): Promise<Pick<TusModuleOptions, 'uploadDir' | 'storage'>> {
  if (config.storage === 'file') return { uploadDir: config.uploadDir };
  if (config.storage === 'azure') return azureStorage(config);
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

async function azureStorage({ azure }: SampleConfig): Promise<Pick<TusModuleOptions, 'storage'>> {
  if (azure.connectionString === undefined) throw new Error('TUS_STORAGE=azure needs AZURE_STORAGE_CONNECTION_STRING');
  const [{ BlobServiceClient }, { AzureBlobStorageBackend }] = await Promise.all([import('@azure/storage-blob'), import('nestjs-tus/azure')]);
  const containerClient = BlobServiceClient.fromConnectionString(azure.connectionString).getContainerClient(azure.container);
  return { storage: new AzureBlobStorageBackend({ containerClient, keyPrefix: azure.keyPrefix }) };
}
