import { BlobSASPermissions, StorageSharedKeyCredential, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { azureStorageErrorOf, isNotFound } from './azure-errors.js';

/** A conditional write: `ifNoneMatch` refuses an existing blob, `ifMatch` any other version. */
export type BlobCondition = { ifNoneMatch: '*' } | { ifMatch: string };

/** How long a read SAS for a server-side copy is valid. */
const COPY_SAS_MS = 60 * 60 * 1000;

/** Runs one Azure call; every failure goes through one rule, {@link azureStorageErrorOf}. */
export async function azureCall<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw azureStorageErrorOf(error);
  }
}

/** The Blob service calls of the Azure backend, on one container. */
export class AzureBlobs {
  constructor(readonly container: ContainerClient) {}

  /** Throws when the container is missing or not accessible with the client's credential. */
  async checkContainer(): Promise<void> {
    await azureCall(() => this.container.getProperties());
  }

  /** A blob's text and ETag, or null when there is no such blob. */
  async getText(name: string): Promise<{ text: string; etag: string } | null> {
    try {
      return await azureCall(async () => {
        const response = await this.blob(name).download(0);
        return { text: await text(response.readableStreamBody!), etag: response.etag! };
      });
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Writes a small blob whole, returning its new ETag. */
  async putText(name: string, body: string, options: { condition?: BlobCondition; leaseId?: string } = {}): Promise<string> {
    const bytes = Buffer.from(body);
    const response = await azureCall(() =>
      this.blob(name).upload(bytes, bytes.length, {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: { ...options.condition, leaseId: options.leaseId },
      }),
    );
    return response.etag!;
  }

  async stageBlock(name: string, blockId: string, body: Buffer): Promise<void> {
    await azureCall(() => this.blob(name).stageBlock(blockId, body, body.length));
  }

  /** Stages bytes `offset`..`offset + count` of `sourceUrl` as a block, copied inside the service. */
  async stageBlockFromUrl(name: string, blockId: string, sourceUrl: string, offset: number, count: number): Promise<void> {
    await azureCall(() => this.blob(name).stageBlockFromURL(blockId, sourceUrl, offset, count));
  }

  /** Commits `blockIds` as the blob's content; every uncommitted block not listed is discarded. */
  async commitBlocks(name: string, blockIds: readonly string[], condition?: BlobCondition): Promise<void> {
    await azureCall(() => this.blob(name).commitBlockList([...blockIds], { conditions: condition }));
  }

  /** Ids of the blocks staged but not committed (also of a blob never committed). */
  async uncommittedBlockIds(name: string): Promise<Set<string>> {
    try {
      const list = await azureCall(() => this.blob(name).getBlockList('uncommitted'));
      return new Set((list.uncommittedBlocks ?? []).map((block) => block.name!));
    } catch (error) {
      if (isNotFound(error)) return new Set();
      throw error;
    }
  }

  /** Size of a committed blob, or null when there is none. */
  async size(name: string): Promise<number | null> {
    try {
      return (await azureCall(() => this.blob(name).getProperties())).contentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /** Streams `count` bytes from `offset` (to the end when `count` is undefined). */
  async getStream(name: string, offset: number, count?: number): Promise<Readable> {
    const response = await azureCall(() => this.blob(name).download(offset, count));
    return response.readableStreamBody as Readable;
  }

  /** Deletes a blob; a missing one is not an error. */
  async delete(name: string, leaseId?: string): Promise<void> {
    await azureCall(() => this.blob(name).deleteIfExists({ conditions: { leaseId } }));
  }

  async *listNames(prefix: string): AsyncIterable<string> {
    const pages = this.container.listBlobsFlat({ prefix }).byPage({ maxPageSize: 1000 });
    for (;;) {
      const page = await azureCall(() => pages.next());
      if (page.done) return;
      for (const item of page.value.segment.blobItems) yield item.name;
    }
  }

  /**
   * A URL the service itself can read `name` from: signed with a read SAS when the client holds a
   * shared key, the blob's own URL when the container URL carries a SAS; otherwise undefined.
   */
  async readableUrl(name: string): Promise<string | undefined> {
    const blob = this.blob(name);
    if (blob.credential instanceof StorageSharedKeyCredential) {
      return blob.generateSasUrl({ permissions: BlobSASPermissions.parse('r'), expiresOn: new Date(Date.now() + COPY_SAS_MS) });
    }
    return new URL(blob.url).searchParams.has('sig') ? blob.url : undefined;
  }

  blob(name: string): BlockBlobClient {
    return this.container.getBlockBlobClient(name);
  }
}
