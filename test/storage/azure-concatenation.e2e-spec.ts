import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { ContainerClient } from '@azure/storage-blob';
import { randomBytes } from 'node:crypto';
import { AzureBlobs } from '../../libs/tus/src/storage/azure/azure-blobs.js';
import { AzureBlobStorageBackend } from '../../libs/tus/src/storage/azure/azure-storage.backend.js';
import { InvalidRequestError } from '../../libs/tus/src/errors/tus.errors.js';
import type { UploadInfo } from '../../libs/tus/src/protocol/upload-info.js';
import { blobsUnder, observedContainer, uncommittedBlocks, type SeenRequest } from '../support/storage/azure-inspection.js';
import { startAzurite, type Azurite } from '../support/servers/azurite.js';
import { chunkFrom, readAll } from '../support/storage/backend-io.js';
import { MiB } from '../support/bytes.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

/**
 * Concatenation on Azure: copied inside the service (Put Block From URL, with a read SAS the
 * backend signs) where it can, streamed through the process where it cannot. Requests are
 * watched through a pipeline policy of the test's own, to see which bytes went through the process.
 */
let azurite: Azurite;
let containerName: string;
let dispose: () => Promise<void>;
let container: ContainerClient;
const seen: SeenRequest[] = [];
/** When set, Put Block From URL is refused as by a service that lacks it. */
let refuseCopies = false;
const PREFIX = 'concat/';
const partials = new Map<string, { upload: UploadInfo; data: Buffer }>();

const isCopy = (request: SeenRequest) => request.headers.get('x-ms-copy-source') !== undefined;
const isPartialRead = (request: SeenRequest) =>
  request.method === 'GET' && [...partials.values()].some(({ upload }) => new URL(request.url).pathname.endsWith(`/${PREFIX}${upload.id}`));

function backendOn(client: ContainerClient): AzureBlobStorageBackend {
  return new AzureBlobStorageBackend({ containerClient: client, keyPrefix: PREFIX, blockSize: MiB });
}

beforeAll(async () => {
  azurite = await startAzurite();
  const created = await azurite.createContainer('azure-concat');
  dispose = created.dispose;
  containerName = created.container.containerName;
  container = observedContainer(azurite, containerName, (request) => {
    seen.push(request);
    if (refuseCopies && isCopy(request)) throw Object.assign(new Error('Put Block From URL is not implemented'), { statusCode: 501, code: 'NotImplemented' });
  });
  const backend = backendOn(container);
  const sizes: Record<string, number> = { large: 3 * MiB + 5, small: 1000, tiny: 1, empty: 0 };
  for (const [name, size] of Object.entries(sizes)) {
    const data = randomBytes(size);
    const created = await backend.create(newUpload(size, { concat: { type: 'partial' } }));
    partials.set(name, { upload: await backend.write(created, chunkFrom(data)), data });
  }
});
afterAll(async () => {
  await dispose?.();
  await azurite?.stop();
});

async function concatenate(backend: AzureBlobStorageBackend, names: string[]): Promise<{ final: UploadInfo; expected: Buffer; requests: SeenRequest[] }> {
  const chosen = names.map((name) => partials.get(name)!);
  seen.length = 0;
  const final = await backend.concatenate(
    newUpload(null, { concat: { type: 'final', parts: chosen.map(({ upload }) => upload.id), header: 'final;…' }, expiresAt: null }),
    chosen.map(({ upload }) => upload),
  );
  return { final, expected: Buffer.concat(chosen.map(({ data }) => data)), requests: [...seen] };
}

async function expectAssembled(backend: AzureBlobStorageBackend, final: UploadInfo, expected: Buffer): Promise<void> {
  expect(final).toMatchObject({ offset: expected.length, length: expected.length });
  expect(final.completedAt).toBeInstanceOf(Date);
  expect(await backend.get(final.id)).toMatchObject({ offset: expected.length, concat: { type: 'final' } });
  expect((await readAll(backend, final)).equals(expected)).toBe(true);
  expect(await blobsUnder(container, `${PREFIX}${final.id}`)).toEqual([`${PREFIX}${final.id}`, `${PREFIX}${final.id}.info`]);
  expect(await uncommittedBlocks(container, `${PREFIX}${final.id}`)).toEqual(new Map());
}

describe('AzureBlobStorageBackend: concatenation', () => {
  it('copies the partials inside the service (Put Block From URL): no byte of theirs passes through the process', async () => {
    refuseCopies = false;
    const backend = backendOn(container);
    const names = ['large', 'small', 'empty', 'tiny', 'large'];
    const { final, expected, requests } = await concatenate(backend, names);
    await expectAssembled(backend, final, expected);
    expect(requests.filter(isCopy)).toHaveLength(4);
    expect(requests.filter(isPartialRead)).toEqual([]);
  });

  it('streams the partials through when the service refuses the copy, and keeps streaming afterwards', async () => {
    refuseCopies = true;
    const backend = backendOn(container);
    const first = await concatenate(backend, ['small', 'large', 'tiny']);
    await expectAssembled(backend, first.final, first.expected);
    expect(first.requests.filter(isCopy).length).toBeGreaterThan(0);
    expect(first.requests.filter(isPartialRead).length).toBeGreaterThan(0);
    const second = await concatenate(backend, ['tiny', 'small']);
    await expectAssembled(backend, second.final, second.expected);
    // The refusal is remembered: no copy is tried again.
    expect(second.requests.filter(isCopy)).toEqual([]);
    refuseCopies = false;
  });

  it('signs a source URL only where it can: a shared key, or a container URL carrying a SAS', async () => {
    const { AnonymousCredential, ContainerClient: Client, ContainerSASPermissions } = await import('@azure/storage-blob');
    // Signing calls no service: any deadlines do.
    const deadlines = { requestTimeoutMs: 30_000, minBlockBytesPerSecond: 256 * 1024 };
    const signed = await new AzureBlobs(container, deadlines).readableUrl(`${PREFIX}x`);
    expect(new URL(signed!).searchParams.get('sp')).toBe('r');
    const sasUrl = await azurite.service
      .getContainerClient(containerName)
      .generateSasUrl({ permissions: ContainerSASPermissions.parse('rwl'), expiresOn: new Date(Date.now() + 60_000) });
    const viaSas = new Client(sasUrl, new AnonymousCredential());
    expect(await new AzureBlobs(viaSas, deadlines).readableUrl(`${PREFIX}x`)).toContain('sig=');
    // Any other credential (an Entra ID token, anonymous): the backend streams instead.
    const anonymous = new Client(container.url, new AnonymousCredential());
    expect(await new AzureBlobs(anonymous, deadlines).readableUrl(`${PREFIX}x`)).toBeUndefined();
  });

  it('refuses an id that exists, leaving that upload untouched', async () => {
    const backend = backendOn(container);
    const existing = partials.get('small')!;
    await expect(
      backend.concatenate({ ...newUpload(null, { concat: { type: 'final', parts: [], header: 'final;' } }), id: existing.upload.id }, [
        partials.get('tiny')!.upload,
      ]),
    ).rejects.toBeInstanceOf(InvalidRequestError);
    expect((await readAll(backend, await backend.get(existing.upload.id))).equals(existing.data)).toBe(true);
  });
});
