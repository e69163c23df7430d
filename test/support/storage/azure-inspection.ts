import { newPipeline, StorageSharedKeyCredential, ContainerClient } from '@azure/storage-blob';
import { buffer } from 'node:stream/consumers';
import type { Azurite } from '../servers/azurite.js';

/** What `<name>.info` records, as the Azure backend writes it. */
export interface StoredAzureInfo {
  offset: number;
  length: number | null;
  completedAt: string | null;
  azure: { blockSize: number; blocks: { id: string; size: number }[]; stagedAt: string | null };
}

/** What the container holds of one upload, read behind the server's back. */
export interface AzureUploadSnapshot {
  info: StoredAzureInfo | null;
  /** The offset `.info` records. */
  recordedOffset: number;
  /** Bytes in the recorded blocks that the service holds staged (each must be there with its size). */
  durable: number;
  /** Bytes in staged blocks that no record names (a request cut off). */
  unrecordedBytes: number;
}

/** Reads `<name>.info` and checks its blocks against the uncommitted blocks of `<name>`. */
export async function inspectAzureUpload(container: ContainerClient, name: string): Promise<AzureUploadSnapshot> {
  const info = await readInfo(container, name);
  const staged = await uncommittedBlocks(container, name);
  let durable = 0;
  for (const block of info?.azure.blocks ?? []) {
    const held = staged.get(block.id);
    if (held !== block.size) throw new Error(`recorded block ${block.id} of ${name} is not what Azure holds (${held} bytes, recorded ${block.size})`);
    durable += held;
    staged.delete(block.id);
  }
  const unrecordedBytes = [...staged.values()].reduce((sum, size) => sum + size, 0);
  return { info, recordedOffset: info?.offset ?? 0, durable, unrecordedBytes };
}

export async function readInfo(container: ContainerClient, name: string): Promise<StoredAzureInfo | null> {
  const blob = container.getBlockBlobClient(`${name}.info`);
  if (!(await blob.exists())) return null;
  return JSON.parse((await buffer((await blob.download()).readableStreamBody!)).toString('utf8')) as StoredAzureInfo;
}

/** The uncommitted blocks of a blob (id to size); empty when there is no such blob. */
export async function uncommittedBlocks(container: ContainerClient, name: string): Promise<Map<string, number>> {
  try {
    const list = await container.getBlockBlobClient(name).getBlockList('uncommitted');
    return new Map((list.uncommittedBlocks ?? []).map((block) => [block.name!, block.size!]));
  } catch (error) {
    if ((error as { statusCode?: number }).statusCode === 404) return new Map();
    throw error;
  }
}

/** Every blob name under `prefix`, also of blobs that have only uncommitted blocks. */
export async function blobsUnder(container: ContainerClient, prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix, includeUncommitedBlobs: true })) names.push(item.name);
  return names.sort();
}

/** A request of the SDK as a test policy sees it. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: { get(name: string): string | undefined };
}

/**
 * A client on `container` whose every request is shown to `observe` first; `observe` may throw to
 * fail the request as the service would (e.g. a service without Put Block From URL).
 */
export function observedContainer(azurite: Azurite, container: string, observe: (request: SeenRequest) => void): ContainerClient {
  const credential = new StorageSharedKeyCredential('devstoreaccount1', accountKeyOf(azurite.connectionString));
  const pipeline = newPipeline(credential);
  pipeline.factories.unshift({
    create: (next) => ({
      sendRequest: async (request) => {
        observe(request as unknown as SeenRequest);
        return next.sendRequest(request);
      },
    }),
  });
  return new ContainerClient(`http://127.0.0.1:${azurite.port}/devstoreaccount1/${container}`, pipeline);
}

function accountKeyOf(connectionString: string): string {
  return /AccountKey=([^;]+)/.exec(connectionString)![1]!;
}
