import { ContainerClient, newPipeline, StorageSharedKeyCredential } from '@azure/storage-blob';
import { AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY } from '../servers/azurite-process.mjs';

/**
 * The bytes of the blocks a client staged (Put Block) and the service accepted, per blob and block
 * id: what a test reads of an unfinished upload on Azure. Azure serves no uncommitted block (the
 * bytes of an unfinished upload are nowhere to download, unlike a file or S3's `.pending` object);
 * Get Block List gives each staged block's id and size, and this tap the bytes that went under
 * that id. A blob's blocks are forgotten when it is committed (Put Block List: they are then
 * committed or discarded) or deleted, so that only unfinished uploads are held, up to
 * {@link TAP_LIMIT} bytes a blob.
 */
export class StagedBlockTap {
  private readonly blobs = new Map<string, { blocks: Map<string, Buffer>; bytes: number; overflow: boolean }>();

  /** The bytes staged under `blockId` of `blob` (a name in the container); throws when they were not kept. */
  bytesOf(blob: string, blockId: string): Buffer {
    const held = this.blobs.get(blob);
    const bytes = held?.blocks.get(blockId);
    if (bytes !== undefined) return bytes;
    if (held?.overflow) throw new Error(`the staged-block tap kept no more of ${blob} after ${TAP_LIMIT} bytes`);
    throw new Error(`no block ${blockId} of ${blob} was staged through this client`);
  }

  /** Sees one request and its answer (a policy of the client's pipeline). */
  seen(method: string, url: string, body: unknown, status: number): void {
    if (status >= 300) return;
    const { blob, query } = blobOf(url);
    if (blob === undefined) return;
    const comp = query.get('comp');
    if (method === 'PUT' && comp === 'block' && Buffer.isBuffer(body)) {
      const held = this.blobs.get(blob) ?? { blocks: new Map(), bytes: 0, overflow: false };
      this.blobs.set(blob, held);
      if (held.bytes + body.length > TAP_LIMIT) {
        held.overflow = true;
        return;
      }
      held.blocks.set(query.get('blockid')!, Buffer.from(body));
      held.bytes += body.length;
    } else if ((method === 'PUT' && comp === 'blocklist') || (method === 'DELETE' && comp === null)) {
      this.blobs.delete(blob);
    }
  }
}

/** Most bytes kept of one blob's staged blocks: the protocol suites' uploads are a few KiB. */
export const TAP_LIMIT = 64 * 1024 * 1024;

/** `/devstoreaccount1/<container>/<blob>` of a request URL, the blob name decoded. */
function blobOf(url: string): { blob: string | undefined; query: URLSearchParams } {
  const parsed = new URL(url);
  const [, , , ...rest] = parsed.pathname.split('/');
  return { blob: rest.length === 0 ? undefined : decodeURIComponent(rest.join('/')), query: parsed.searchParams };
}

/**
 * A client on `container` of the Azurite at `port` (its development account) whose staged blocks
 * `tap` keeps. Signed with the account's shared key like a client from a connection string, so the
 * backend signs read SAS URLs for its server-side concatenation as it would.
 */
export function tappedContainer(port: number, container: string, tap: StagedBlockTap): ContainerClient {
  const pipeline = newPipeline(new StorageSharedKeyCredential(AZURITE_ACCOUNT, AZURITE_ACCOUNT_KEY));
  pipeline.factories.unshift({
    create: (next) => ({
      sendRequest: async (request) => {
        const response = await next.sendRequest(request);
        tap.seen(request.method, request.url, request.body, response.status);
        return response;
      },
    }),
  });
  return new ContainerClient(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT}/${container}`, pipeline);
}

/** What a test reads an Azure backend's container with: a plain client on it, and its client's tap. */
export interface AzureBackendAccess {
  container: ContainerClient;
  tap: StagedBlockTap;
}

const registered = new WeakMap<object, AzureBackendAccess>();

/** Records how to read behind `backend`'s back (the fixture that made it calls this). */
export function registerAzureBackend(backend: object, access: AzureBackendAccess): void {
  registered.set(backend, access);
}

/** How to read behind an Azure backend's back; throws for one no fixture made. */
export function azureBackendAccess(backend: object): AzureBackendAccess {
  const access = registered.get(backend);
  if (access === undefined) throw new Error('this AzureBlobStorageBackend was not made by azureBackendFixture: the test cannot read its container');
  return access;
}
