import { uniqueSuffix } from '../unique-suffix.js';
import type { AzureBlobs } from './azure-blobs.js';

/**
 * The Azure backend's health: the container answers, and takes a small blob under the key prefix
 * (a probe, written and deleted). An unreachable service fails it as `StorageUnavailableError`, a
 * missing container or a refused credential with Azure's own error.
 */
export async function checkContainerWritable(blobs: AzureBlobs, keyPrefix: string): Promise<void> {
  await blobs.checkContainer();
  const probe = `${keyPrefix}.tus-health-${uniqueSuffix()}`;
  await blobs.putText(probe, 'ok');
  await blobs.delete(probe);
}
