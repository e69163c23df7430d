// The Azure Blob Storage backend, a separate entry (`nestjs-tus/azure`) so that apps on the file or
// S3 backend need not install the optional peer `@azure/storage-blob`.
export { AzureBlobStorageBackend } from './storage/azure/azure-storage.backend.js';
export {
  DEFAULT_AZURE_BLOCK_SIZE,
  DEFAULT_AZURE_MIN_BLOCK_BYTES_PER_SECOND,
  DEFAULT_AZURE_REQUEST_TIMEOUT_MS,
  type AzureBlobStorageOptions,
} from './storage/azure/azure-storage.options.js';
export { TusAzureContainerClient, InjectAzureContainerClient } from './storage/azure/azure-container.token.js';
