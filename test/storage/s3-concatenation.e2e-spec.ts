import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { S3StorageBackend } from '../../libs/tus/src/storage/s3/s3-storage.backend.js';
import { InvalidRequestError } from '../../libs/tus/src/errors/tus.errors.js';
import type { UploadInfo } from '../../libs/tus/src/protocol/upload-info.js';
import { chunkFrom, readAll } from '../support/storage/backend-io.js';
import { etagOf, keysUnder, multipartUploadsUnder } from '../support/storage/s3-inspection.js';
import { MiB } from '../support/bytes.js';
import { createTestBucket, createTestS3Client, s3ServerFromEnv } from '../support/servers/s3-server.js';
import { newUpload } from '../support/storage/storage-backend.suite.js';

const client = createTestS3Client(s3ServerFromEnv());
/** Names of the S3 commands the backend sent, to see which bytes went through this process. */
const sent: string[] = [];
client.middlewareStack.add(
  (next, context) => async (args) => {
    sent.push(context.commandName ?? '?');
    return next(args);
  },
  { step: 'initialize', name: 'recordCommands' },
);
let bucket: string;
let disposeBucket: () => Promise<void>;
let backend: S3StorageBackend;
const partials = new Map<string, { upload: UploadInfo; data: Buffer }>();

beforeAll(async () => {
  ({ bucket, dispose: disposeBucket } = await createTestBucket(client, 's3-concat'));
  backend = new S3StorageBackend({ client, bucket, keyPrefix: 'concat/', partSize: 5 * MiB });
  const sizes: Record<string, number> = {
    large6: 6 * MiB,
    large12: 12 * MiB,
    exact5: 5 * MiB,
    small1: MiB,
    small3: 3 * MiB,
    tiny: 100,
    empty: 0,
  };
  for (const [name, size] of Object.entries(sizes)) {
    const data = randomBytes(size);
    const created = await backend.create(newUpload(size, { concat: { type: 'partial' } }));
    partials.set(name, { upload: await backend.write(created, chunkFrom(data)), data });
  }
});
afterAll(async () => {
  await disposeBucket();
  client.destroy();
});

async function concatenate(names: string[]): Promise<{ final: UploadInfo; expected: Buffer; commands: string[] }> {
  const chosen = names.map((name) => partials.get(name)!);
  sent.length = 0;
  const final = await backend.concatenate(
    newUpload(null, {
      concat: { type: 'final', parts: chosen.map(({ upload }) => upload.id), header: 'final;…' },
      expiresAt: null,
    }),
    chosen.map(({ upload }) => upload),
  );
  const commands = [...sent];
  return { final, expected: Buffer.concat(chosen.map(({ data }) => data)), commands };
}

describe('S3StorageBackend: concatenation', () => {
  it.each([
    ['large partials only, copied inside S3', ['large6', 'large12', 'exact5'], 3],
    ['large and small partials, a partial repeated', ['large6', 'small1', 'large12', 'tiny', 'small3', 'exact5', 'tiny', 'empty'], 5],
    ['a small partial first, topped up from the next', ['small1', 'large12'], 2],
    ['small partials only, over one part', ['small3', 'small3', 'small1', 'tiny'], 2],
  ])('assembles %s', async (_name, names, partCount) => {
    const { final, expected, commands } = await concatenate(names as string[]);
    expect(final).toMatchObject({ offset: expected.length, length: expected.length });
    expect(final.completedAt).toBeInstanceOf(Date);
    expect(await backend.get(final.id)).toMatchObject({ offset: expected.length, length: expected.length, concat: { type: 'final' } });
    expect((await readAll(backend, final)).equals(expected)).toBe(true);
    expect(await etagOf(client, bucket, `concat/${final.id}`)).toMatch(new RegExp(`-${partCount}"$`));
    if (names.every((name) => partials.get(name)!.data.length >= 5 * MiB)) {
      // No partial's byte passed through this process.
      expect(commands).not.toContain('GetObjectCommand');
      expect(commands.filter((name) => name === 'UploadPartCopyCommand')).toHaveLength(names.length);
    }
    expect(await keysUnder(client, bucket, `concat/${final.id}`)).toEqual([`concat/${final.id}`, `concat/${final.id}.info`]);
    expect(await multipartUploadsUnder(client, bucket, `concat/${final.id}`)).toEqual([]);
  });

  it('assembles a concatenation under one part with a single PutObject', async () => {
    const { final, expected, commands } = await concatenate(['small1', 'tiny', 'empty', 'small1']);
    expect((await readAll(backend, final)).equals(expected)).toBe(true);
    expect(commands).not.toContain('CreateMultipartUploadCommand');
    expect(await etagOf(client, bucket, `concat/${final.id}`)).not.toMatch(/-\d+"$/);
  });

  it('refuses an id that exists, leaving that upload untouched', async () => {
    const existing = partials.get('small1')!;
    await expect(
      backend.concatenate(
        { ...newUpload(null, { concat: { type: 'final', parts: [], header: 'final;' } }), id: existing.upload.id },
        [partials.get('tiny')!.upload],
      ),
    ).rejects.toBeInstanceOf(InvalidRequestError);
    expect((await readAll(backend, await backend.get(existing.upload.id))).equals(existing.data)).toBe(true);
  });
});
