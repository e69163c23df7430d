import { describe, expect, it } from '@jest/globals';
import { buffer } from 'node:stream/consumers';
import {
  ChecksumMismatchError,
  ForbiddenUploadError,
  InvalidRequestError,
  MethodNotAllowedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  ShuttingDownError,
  UploadExpiredError,
  UploadLockedError,
  UploadNotFoundError,
} from '../errors/tus.errors.js';
import { TusEvent } from './events/tus.events.js';
import { bodyOf, CONTEXT, createCore } from './testing/core-fixture.js';
import type { CreateUploadCommand } from './upload-commands.js';
import { MemoryStorageBackend } from '../storage/memory/memory-storage.backend.js';
import { composeStorage } from '../storage/storage-composer.js';

const create = (command: Partial<CreateUploadCommand> = {}): CreateUploadCommand => ({
  metadata: {},
  metadataHeader: null,
  length: 10,
  body: null,
  context: CONTEXT,
  ...command,
});

const bytesOf = async (core: ReturnType<typeof createCore>, id: string) =>
  (await buffer(await core.backend.createReadStream(await core.backend.get(id)))).toString();

describe('TusUploadService (in-memory backend, no HTTP)', () => {
  describe('create', () => {
    it('creates an upload at offset 0 with its expiry, announcing it', async () => {
      const core = createCore();
      const upload = await core.uploads.create(create({ metadata: { filename: 'a.txt' }, metadataHeader: 'filename YS50eHQ=' }));
      expect(upload).toMatchObject({ id: 'u1', offset: 0, length: 10, completedAt: null, metadata: { filename: 'a.txt' } });
      expect(upload.expiresAt?.getTime()).toBe(core.clock.current + 3600_000);
      expect(core.emitted).toEqual([`${TusEvent.POST_CREATE}:u1`]);
    });

    it('stores a first chunk and finishes an upload it completes (creation-with-upload)', async () => {
      const core = createCore();
      const upload = await core.uploads.create(create({ length: 5, body: bodyOf(['hel', 'lo']) }));
      expect(upload).toMatchObject({ offset: 5, length: 5 });
      expect(upload.completedAt).not.toBeNull();
      expect(await bytesOf(core, upload.id)).toBe('hello');
      expect(core.emitted).toEqual([`${TusEvent.POST_CREATE}:u1`, `${TusEvent.POST_RECEIVE}:u1`, `${TusEvent.POST_FINISH}:u1`]);
    });

    it('completes an empty upload at once', async () => {
      const core = createCore();
      const upload = await core.uploads.create(create({ length: 0 }));
      expect(upload.completedAt).not.toBeNull();
      expect(core.emitted).toContain(`${TusEvent.POST_FINISH}:u1`);
    });

    it('refuses a length over maxSize (413), before anything is stored', async () => {
      const core = createCore({ maxSize: async () => 4 });
      await expect(core.uploads.create(create({ length: 5 }))).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect(await core.uploads['config'].store.list!()[Symbol.asyncIterator]().next()).toMatchObject({ done: true });
    });

    it('hands the context to authorize and a veto is 403', async () => {
      const seen: object[] = [];
      const core = createCore({ authorize: async (context) => (seen.push(context), false) });
      await expect(core.uploads.create(create())).rejects.toBeInstanceOf(ForbiddenUploadError);
      expect(seen).toEqual([CONTEXT]);
    });

    it('applies metadataOverride and re-encodes the header', async () => {
      const core = createCore({ metadataOverride: async (_context, metadata) => ({ ...metadata, owner: 'me' }) });
      const upload = await core.uploads.create(create({ metadata: { filename: 'x' } }));
      expect(upload.metadata).toEqual({ filename: 'x', owner: 'me' });
      expect(upload.metadataHeader).toBe(`filename ${Buffer.from('x').toString('base64')},owner ${Buffer.from('me').toString('base64')}`);
    });

    it('removes an upload whose first chunk was refused: its URL was never given out', async () => {
      const core = createCore();
      const failing = bodyOf(['abc'], { verify: () => { throw new ChecksumMismatchError(); } });
      await expect(core.uploads.create(create({ length: 3, body: failing }))).rejects.toBeInstanceOf(ChecksumMismatchError);
      await expect(core.backend.get('u1')).rejects.toBeInstanceOf(UploadNotFoundError);
    });

    it('takes no body while shutting down (503) and none when creation-with-upload is off (400)', async () => {
      const draining = createCore();
      void draining.activeWrites.drain(0);
      await expect(draining.uploads.create(create({ body: bodyOf(['x']) }))).rejects.toBeInstanceOf(ShuttingDownError);
      const without = createCore({ extensions: new Set(['creation']) });
      await expect(without.uploads.create(create({ body: bodyOf(['x']) }))).rejects.toBeInstanceOf(InvalidRequestError);
      await expect(createCore({ extensions: new Set() }).uploads.create(create())).rejects.toBeInstanceOf(MethodNotAllowedError);
    });

    it('refuses an id generateId made up outside the alphabet', async () => {
      const core = createCore({ generateId: () => 'not/valid' });
      await expect(core.uploads.create(create())).rejects.toThrow(/generateId returned "not\/valid"/);
    });
  });

  describe('append', () => {
    it('appends at the offset, renews the expiry, and finishes at the length', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 6 }));
      core.clock.advance(60);
      const half = await core.uploads.append({ id, offset: 0, body: bodyOf(['abc']), context: CONTEXT });
      expect(half).toMatchObject({ offset: 3, completedAt: null });
      expect(half.expiresAt?.getTime()).toBe(core.clock.current + 3600_000);
      const done = await core.uploads.append({ id, offset: 3, body: bodyOf(['def']), context: CONTEXT });
      expect(done.completedAt).not.toBeNull();
      expect(await bytesOf(core, id)).toBe('abcdef');
      expect(core.emitted.filter((event) => event.startsWith(TusEvent.POST_FINISH))).toHaveLength(1);
    });

    it('refuses a wrong offset (409) and a chunk past the length (413) without storing a byte', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 3 }));
      await expect(core.uploads.append({ id, offset: 1, body: bodyOf(['a']), context: CONTEXT })).rejects.toBeInstanceOf(OffsetMismatchError);
      await expect(core.uploads.append({ id, offset: 0, body: bodyOf(['abcd']), context: CONTEXT })).rejects.toBeInstanceOf(PayloadTooLargeError);
      // Not announced: counted while it streams, and the chunk goes as a whole.
      await expect(core.uploads.append({ id, offset: 0, body: bodyOf(['abcd'], { declared: undefined, cut: false }), context: CONTEXT })).rejects.toBeInstanceOf(PayloadTooLargeError);
      expect((await core.backend.get(id)).offset).toBe(0);
    });

    it('keeps the bytes of a body cut off in transit, but none of one that must be verified whole', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 10 }));
      await expect(core.uploads.append({ id, offset: 0, body: bodyOf(['abcd'], { cut: true }), context: CONTEXT })).rejects.toThrow('aborted');
      expect((await core.backend.get(id)).offset).toBe(4);
      const verified = bodyOf(['efg'], { cut: true, verify: () => undefined });
      await expect(core.uploads.append({ id, offset: 4, body: verified, context: CONTEXT })).rejects.toThrow('aborted');
      expect((await core.backend.get(id)).offset).toBe(4);
    });

    it('discards a chunk whose verification fails (460)', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 10 }));
      const body = bodyOf(['abc'], { verify: () => { throw new ChecksumMismatchError(); } });
      await expect(core.uploads.append({ id, offset: 0, body, context: CONTEXT })).rejects.toBeInstanceOf(ChecksumMismatchError);
      expect((await core.backend.get(id)).offset).toBe(0);
    });

    it('takes a deferred length once, refuses a change (400) and a length below the offset (400)', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: null }));
      await core.uploads.append({ id, offset: 0, body: bodyOf(['ab']), context: CONTEXT });
      await expect(core.uploads.append({ id, offset: 2, length: 1, body: bodyOf([]), context: CONTEXT })).rejects.toBeInstanceOf(InvalidRequestError);
      const done = await core.uploads.append({ id, offset: 2, length: 3, body: bodyOf(['c']), context: CONTEXT });
      expect(done).toMatchObject({ length: 3, offset: 3 });
      expect(done.completedAt).not.toBeNull();
      await expect(core.uploads.append({ id, offset: 3, length: 4, body: bodyOf([]), context: CONTEXT })).rejects.toBeInstanceOf(InvalidRequestError);
    });

    it('answers a retried empty append at the end of a completed upload with its state; a byte more is 413', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 1, body: bodyOf(['a']) }));
      expect(await core.uploads.append({ id, offset: 1, body: bodyOf([]), context: CONTEXT })).toMatchObject({ offset: 1 });
      await expect(core.uploads.append({ id, offset: 1, body: bodyOf(['b']), context: CONTEXT })).rejects.toBeInstanceOf(PayloadTooLargeError);
    });

    it('lets a pre-finish listener veto the last chunk, which is then discarded', async () => {
      const core = createCore();
      core.events.on(TusEvent.PRE_FINISH, () => {
        throw new ForbiddenUploadError('no');
      });
      const { id } = await core.uploads.create(create({ length: 2 }));
      await expect(core.uploads.append({ id, offset: 0, body: bodyOf(['ab']), context: CONTEXT })).rejects.toBeInstanceOf(ForbiddenUploadError);
      expect((await core.backend.get(id)).offset).toBe(0);
    });

    it('serialises two appends on one upload with the in-process lock (a backend without one): the second is 409', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 4 }));
      const outcomes = await Promise.allSettled([
        core.uploads.append({ id, offset: 0, body: bodyOf(['ab']), context: CONTEXT }),
        core.uploads.append({ id, offset: 0, body: bodyOf(['cd']), context: CONTEXT }),
      ]);
      expect(outcomes.map((outcome) => outcome.status).sort()).toEqual(['fulfilled', 'rejected']);
      expect((outcomes.find((outcome) => outcome.status === 'rejected') as PromiseRejectedResult).reason).toBeInstanceOf(OffsetMismatchError);
      expect((await core.backend.get(id)).offset).toBe(2);
    });
  });

  describe('head, terminate, expire', () => {
    it('answers 410 for an expired unfinished upload, and never expires a completed one', async () => {
      const core = createCore();
      const open = await core.uploads.create(create({ length: 5 }));
      const done = await core.uploads.create(create({ length: 1, body: bodyOf(['x']) }));
      core.clock.advance(3601);
      await expect(core.uploads.head(open.id, CONTEXT)).rejects.toBeInstanceOf(UploadExpiredError);
      expect((await core.uploads.head(done.id, CONTEXT)).completedAt).not.toBeNull();
      expect((await core.uploads.removeExpired()).map((upload) => upload.id)).toEqual([open.id]);
      await expect(core.backend.get(open.id)).rejects.toBeInstanceOf(UploadNotFoundError);
    });

    it('finishes, on HEAD, an upload whose bytes are all stored but that was never finished (a crash)', async () => {
      const core = createCore();
      const { id } = await core.uploads.create(create({ length: 2 }));
      // As a crashed write leaves it: every byte recorded, never completed.
      await core.backend.write(await core.backend.get(id), { stream: bodyOf(['ab']).open(), stages: [], keepOnInterrupt: true, verify: async () => undefined });
      const stored = await core.backend.get(id);
      await core.backend.update(stored, {});
      (core.backend as unknown as { uploads: Map<string, { info: { completedAt: Date | null } }> }).uploads.get(id)!.info.completedAt = null;
      const upload = await core.uploads.head(id, CONTEXT);
      expect(upload.completedAt).not.toBeNull();
      expect(core.emitted).toContain(`${TusEvent.POST_FINISH}:${id}`);
    });

    it('terminates with its events; the app itself (null context) bypasses a disabled extension', async () => {
      const core = createCore({ extensions: new Set(['creation']) });
      core.events.on(TusEvent.PRE_TERMINATE, () => undefined);
      const { id } = await core.uploads.create(create());
      await expect(core.uploads.terminate(id, CONTEXT)).rejects.toBeInstanceOf(MethodNotAllowedError);
      await core.uploads.terminate(id, null);
      expect(core.emitted.slice(-2)).toEqual([`${TusEvent.PRE_TERMINATE}:${id}`, `${TusEvent.POST_TERMINATE}:${id}`]);
      await expect(core.uploads.head(id, CONTEXT)).rejects.toBeInstanceOf(UploadNotFoundError);
    });
  });

  describe('concatenation', () => {
    it('assembles a final from complete partials, in order, a partial repeated', async () => {
      const core = createCore();
      const a = await core.uploads.create(create({ length: 2, concat: { type: 'partial' }, body: bodyOf(['ab']) }));
      const b = await core.uploads.create(create({ length: 1, concat: { type: 'partial' }, body: bodyOf(['c']) }));
      const final = await core.uploads.create(create({ concat: { type: 'final', partIds: [a.id, b.id, a.id], header: 'final;...' } }));
      expect(final).toMatchObject({ length: 5, offset: 5, concat: { type: 'final', parts: [a.id, b.id, a.id] } });
      expect(await bytesOf(core, final.id)).toBe('abcab');
      // Partials complete into a final, not on their own.
      expect(core.emitted.filter((event) => event.startsWith(TusEvent.POST_FINISH))).toEqual([`${TusEvent.POST_FINISH}:${final.id}`]);
    });

    it('records a final over unfinished partials and assembles it when the last one completes', async () => {
      const core = createCore();
      const a = await core.uploads.create(create({ length: 2, concat: { type: 'partial' } }));
      const final = await core.uploads.create(create({ concat: { type: 'final', partIds: [a.id], header: 'final;x' } }));
      expect(final.completedAt).toBeNull();
      await core.uploads.append({ id: a.id, offset: 0, body: bodyOf(['xy']), context: CONTEXT });
      const settled = await core.uploads.head(final.id, CONTEXT);
      expect(settled).toMatchObject({ offset: 2, length: 2 });
      expect(await bytesOf(core, final.id)).toBe('xy');
    });

    it('terminates a waiting final whose partial is terminated', async () => {
      const core = createCore();
      const a = await core.uploads.create(create({ length: 2, concat: { type: 'partial' } }));
      const final = await core.uploads.create(create({ concat: { type: 'final', partIds: [a.id], header: 'final;x' } }));
      await core.uploads.terminate(a.id, CONTEXT);
      await expect(core.uploads.head(final.id, CONTEXT)).rejects.toBeInstanceOf(UploadNotFoundError);
      expect(core.emitted).toContain(`${TusEvent.POST_TERMINATE}:${final.id}`);
    });

    it('refuses to patch a final (403) and a final over a non-partial (400)', async () => {
      const core = createCore();
      const plain = await core.uploads.create(create({ length: 1, body: bodyOf(['a']) }));
      await expect(core.uploads.create(create({ concat: { type: 'final', partIds: [plain.id], header: 'final;x' } }))).rejects.toBeInstanceOf(InvalidRequestError);
      const a = await core.uploads.create(create({ length: 1, concat: { type: 'partial' }, body: bodyOf(['a']) }));
      const final = await core.uploads.create(create({ concat: { type: 'final', partIds: [a.id], header: 'final;x' } }));
      await expect(core.uploads.append({ id: final.id, offset: 1, body: bodyOf(['b']), context: CONTEXT })).rejects.toBeInstanceOf(ForbiddenUploadError);
    });
  });

  it('offers no concatenation over a backend that cannot concatenate, and locks it in-process', async () => {
    const backend = new MemoryStorageBackend();
    Object.defineProperty(backend, 'concatenate', { value: undefined });
    const store = composeStorage(backend);
    expect(store.extensions).not.toContain('concatenation');
    expect(store.concatenate).toBeUndefined();
    expect(store.sharedLock).toBe(false);
    const release = await store.lock('a');
    const impatient = composeStorage(backend, 50);
    const held = await impatient.lock('b');
    await expect(impatient.lock('b')).rejects.toBeInstanceOf(UploadLockedError);
    await held();
    const second = store.lock('a');
    await release();
    await (await second)();
  });
});
