import { BlobSASPermissions, StorageSharedKeyCredential, type BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import type { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { blockDeadlineMs, withDeadline, type AzureDeadlines } from './azure-deadline.js';
import { azureStorageErrorOf, isNotFound } from './azure-errors.js';
import type { ListedBlob } from './lock-leftovers.js';

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

/** Bytes of a Put Block List body per block id (`<Latest>` and a 16-character id, base64): what its deadline allows for. */
const COMMIT_BYTES_PER_BLOCK = 48;

/**
 * The Blob service calls of the Azure backend, on one container. Each has a client-side deadline
 * (see withDeadline): `requestTimeoutMs` for a call that moves no bulk bytes, a block's share of
 * time at `minBlockBytesPerSecond` for a block upload, and for a download only until its answer
 * begins.
 */
export class AzureBlobs {
  constructor(
    readonly container: ContainerClient,
    private readonly deadlines: AzureDeadlines,
  ) {}

  /** Throws when the container is missing or not accessible with the client's credential. */
  async checkContainer(): Promise<void> {
    await this.call('Get Container Properties', (abortSignal) => this.container.getProperties({ abortSignal }));
  }

  /** A blob's text and ETag, or null when there is no such blob. */
  async getText(name: string): Promise<{ text: string; etag: string } | null> {
    try {
      // A small blob: reading its body is part of the call and of its deadline.
      return await this.call('Get Blob', async (abortSignal) => {
        const response = await this.blob(name).download(0, undefined, { abortSignal });
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
    const response = await this.call('Put Blob', (abortSignal) =>
      this.blob(name).upload(bytes, bytes.length, {
        blobHTTPHeaders: { blobContentType: 'application/json' },
        conditions: { ...options.condition, leaseId: options.leaseId },
        abortSignal,
      }),
    );
    return response.etag!;
  }

  async stageBlock(name: string, blockId: string, body: Buffer): Promise<void> {
    const ms = blockDeadlineMs(this.deadlines, body.length);
    await this.call('Put Block', (abortSignal) => this.blob(name).stageBlock(blockId, body, body.length, { abortSignal }), ms);
  }

  /** Stages bytes `offset`..`offset + count` of `sourceUrl` as a block, copied inside the service. */
  async stageBlockFromUrl(name: string, blockId: string, sourceUrl: string, offset: number, count: number): Promise<void> {
    const ms = blockDeadlineMs(this.deadlines, count);
    await this.call('Put Block From URL', (abortSignal) => this.blob(name).stageBlockFromURL(blockId, sourceUrl, offset, count, { abortSignal }), ms);
  }

  /** Commits `blockIds` as the blob's content; every uncommitted block not listed is discarded. */
  async commitBlocks(name: string, blockIds: readonly string[], condition?: BlobCondition): Promise<void> {
    const ms = blockDeadlineMs(this.deadlines, blockIds.length * COMMIT_BYTES_PER_BLOCK);
    await this.call('Put Block List', (abortSignal) => this.blob(name).commitBlockList([...blockIds], { conditions: condition, abortSignal }), ms);
  }

  /** Ids of the blocks staged but not committed (also of a blob never committed). */
  async uncommittedBlockIds(name: string): Promise<Set<string>> {
    try {
      const list = await this.call('Get Block List', (abortSignal) => this.blob(name).getBlockList('uncommitted', { abortSignal }));
      return new Set((list.uncommittedBlocks ?? []).map((block) => block.name!));
    } catch (error) {
      if (isNotFound(error)) return new Set();
      throw error;
    }
  }

  /** Size of a committed blob, or null when there is none. */
  async size(name: string): Promise<number | null> {
    try {
      return (await this.call('Get Blob Properties', (abortSignal) => this.blob(name).getProperties({ abortSignal }))).contentLength ?? 0;
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  /**
   * Streams `count` bytes from `offset` (to the end when `count` is undefined). The deadline covers
   * the answer's beginning only: a whole download may rightly take longer than any fixed time.
   */
  async getStream(name: string, offset: number, count?: number): Promise<Readable> {
    const response = await this.call('Get Blob', (abortSignal) => this.blob(name).download(offset, count, { abortSignal }));
    return response.readableStreamBody as Readable;
  }

  /** Deletes a blob; a missing one is not an error. Resolves with whether there was one. */
  async delete(name: string, leaseId?: string): Promise<boolean> {
    const response = await this.call('Delete Blob', (abortSignal) => this.blob(name).deleteIfExists({ conditions: { leaseId }, abortSignal }));
    return response.succeeded;
  }

  /** Deletes the blob only while it is the version `etag` and holds no lease; resolves with whether it did. */
  async deleteVersion(name: string, etag: string): Promise<boolean> {
    const response = await this.call('Delete Blob', (abortSignal) => this.blob(name).deleteIfExists({ conditions: { ifMatch: etag }, abortSignal }));
    return response.succeeded;
  }

  async *listNames(prefix: string): AsyncIterable<string> {
    for await (const blob of this.list(prefix)) yield blob.name;
  }

  /** The blobs under `prefix`, in name order, with their version, lease and last change. */
  async *list(prefix: string): AsyncIterable<ListedBlob> {
    // One signal for the listing, which the SDK hands to each page's request; a deadline per page.
    const controller = new AbortController();
    const pages = this.container.listBlobsFlat({ prefix, abortSignal: controller.signal }).byPage({ maxPageSize: 1000 });
    for (;;) {
      const page = await this.call('List Blobs', () => pages.next(), this.deadlines.requestTimeoutMs, controller);
      if (page.done) return;
      for (const { name, properties } of page.value.segment.blobItems) {
        const leased = properties.leaseState === 'leased' || properties.leaseState === 'breaking';
        yield { name, etag: properties.etag, leased, lastModified: properties.lastModified };
      }
    }
  }

  /** Leases `name` for `seconds` under `leaseId`. */
  async acquireLease(name: string, leaseId: string, seconds: number): Promise<void> {
    await this.call('Lease Blob (acquire)', (abortSignal) => this.blob(name).getBlobLeaseClient(leaseId).acquireLease(seconds, { abortSignal }));
  }

  async renewLease(name: string, leaseId: string): Promise<void> {
    await this.call('Lease Blob (renew)', (abortSignal) => this.blob(name).getBlobLeaseClient(leaseId).renewLease({ abortSignal }));
  }

  async releaseLease(name: string, leaseId: string): Promise<void> {
    await this.call('Lease Blob (release)', (abortSignal) => this.blob(name).getBlobLeaseClient(leaseId).releaseLease({ abortSignal }));
  }

  /** Breaks the lease on `name` at once, if the blob is still the version `ifMatch`. */
  async breakLease(name: string, ifMatch: string): Promise<void> {
    await this.call('Lease Blob (break)', (abortSignal) => this.blob(name).getBlobLeaseClient().breakLease(0, { conditions: { ifMatch }, abortSignal }));
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

  /** One call under its deadline (`requestTimeoutMs` unless given); its failure mapped by the one rule. */
  private call<T>(what: string, work: (abortSignal: AbortSignal) => Promise<T>, ms = this.deadlines.requestTimeoutMs, controller?: AbortController): Promise<T> {
    return azureCall(() => withDeadline(ms, what, work, controller));
  }
}
