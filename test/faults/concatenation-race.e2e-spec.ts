import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { EventEmitter2 } from '@nestjs/event-emitter';
import { TusEvent, type TusPostEvent, TusStorageBackend, TusStorageService } from 'nestjs-tus';
import { BACKENDS } from '../support/apps/backends.js';
import { createUpload, head, locationOf, patchHeaders, send, storedBytes, TUS, uploadIdOf } from '../support/http/requests.js';
import { ManualClock, startTusApp, type TusApp } from '../support/apps/tus-app.js';

/**
 * concatenation-unfinished against DELETE and expiry of a partial. A final is assembled holding
 * every partial's lock, so a DELETE of a partial waits for the copy or comes before it; a final
 * whose partial is gone is terminated. The backend's `concatenate` is held at a gate to open the
 * window deterministically (it was a log line `ENOENT` and a final that never completed, about one
 * CI run in several).
 */
describe.each(BACKENDS)('a final upload and its partials on the $name backend', (backend) => {
  let app: TusApp;
  const clock = new ManualClock();
  const terminated: string[] = [];
  const finished: string[] = [];
  /** While set, `concatenate` waits for it (and says it entered). */
  let gate: { entered: () => void; open: Promise<void> } | undefined;
  /** While set, `concatenate` fails once with it. */
  let failOnce: Error | undefined;

  beforeAll(async () => {
    app = await startTusApp({ expirationSeconds: 3600 }, { backend, clock });
    const store = app.app.get<TusStorageBackend>(TusStorageBackend);
    const concatenate = store.concatenate!.bind(store);
    store.concatenate = async (...args) => {
      if (failOnce) {
        const error = failOnce;
        failOnce = undefined;
        throw error;
      }
      if (gate) {
        gate.entered();
        await gate.open;
      }
      return concatenate(...args);
    };
    const events = app.app.get(EventEmitter2);
    events.on(TusEvent.POST_TERMINATE, (event: TusPostEvent) => terminated.push(event.upload.id));
    events.on(TusEvent.POST_FINISH, (event: TusPostEvent) => finished.push(event.upload.id));
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Partial A complete ("Hello, "), partial B waiting for its bytes ("world"), final F of both. */
  async function finalWaitingForB(): Promise<{ a: string; b: string; final: string }> {
    const a = await createUpload(app.url, { 'Upload-Length': 7, 'Upload-Concat': 'partial' });
    expect((await send('PATCH', a, { headers: patchHeaders(0), body: 'Hello, ' })).status).toBe(204);
    const b = await createUpload(app.url, { 'Upload-Length': 5, 'Upload-Concat': 'partial' });
    const created = await send('POST', app.url, { headers: { ...TUS, 'Upload-Concat': `final;${a} ${b}` } });
    expect(created.status).toBe(201);
    const final = locationOf(created, app.url);
    expect((await head(final)).headers['upload-offset']).toBeUndefined();
    return { a, b, final };
  }

  it('a DELETE of a partial while the final is being assembled never takes its bytes from the copy', async () => {
    const { a, b, final } = await finalWaitingForB();
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    let open!: () => void;
    gate = { entered, open: new Promise<void>((resolve) => (open = resolve)) };
    let deletion;
    let lastPatch;
    try {
      // The last bytes of B: its PATCH assembles the final, and stops at the gate inside the copy.
      lastPatch = send('PATCH', b, { headers: patchHeaders(0), body: 'world' });
      await inside;
      // The copy holds every partial: the DELETE waits for A and gives up busy (423, which tus
      // clients retry). Without the partials' locks it answered 204 at once, and the copy then
      // read a partial that was gone: the final never completed and the log said ENOENT.
      deletion = await send('DELETE', a, { headers: TUS });
    } finally {
      open();
      gate = undefined;
    }
    expect(deletion.status).toBe(423);
    expect((await lastPatch).status).toBe(204);
    const state = await head(final);
    expect(state.status).toBe(200);
    expect(state.headers['upload-offset']).toBe('12');
    expect((await storedBytes(final)).toString()).toBe('Hello, world');
    expect(finished).toContain(uploadIdOf(final));
    // Once the copy is done the partial goes, and the final keeps its bytes.
    expect((await send('DELETE', a, { headers: TUS })).status).toBe(204);
    expect((await storedBytes(final)).toString()).toBe('Hello, world');
  });

  it('a partial terminated before its final is assembled terminates the final (404, with its events)', async () => {
    const { b, final } = await finalWaitingForB();
    expect((await send('DELETE', b, { headers: TUS })).status).toBe(204);
    expect(terminated).toContain(uploadIdOf(final));
    expect((await head(final)).status).toBe(404);
    expect(finished).not.toContain(uploadIdOf(final));
  });

  it('a partial that completes after another was terminated does not assemble the final', async () => {
    const { a, b, final } = await finalWaitingForB();
    expect((await send('DELETE', a, { headers: TUS })).status).toBe(204);
    expect((await head(final)).status).toBe(404);
    expect((await send('PATCH', b, { headers: patchHeaders(0), body: 'world' })).status).toBe(204);
    expect((await head(final)).status).toBe(404);
    expect(finished).not.toContain(uploadIdOf(final));
  });

  it('a partial that expires unfinished takes its final with it in the expiry sweep', async () => {
    const { b, final } = await finalWaitingForB();
    clock.advance(3601);
    try {
      const removed = (await app.app.get(TusStorageService).deleteExpired()).map((upload) => upload.id);
      expect(removed).toContain(uploadIdOf(b));
    } finally {
      clock.advance(-3601);
    }
    expect(terminated).toContain(uploadIdOf(final));
    expect((await head(final)).status).toBe(404);
  });

  it('a final whose assembly failed (storage out of reach) is assembled by its next HEAD', async () => {
    const { b, final } = await finalWaitingForB();
    failOnce = new Error('storage went away for a moment');
    // The partial's own PATCH succeeds: the failure is the final's.
    expect((await send('PATCH', b, { headers: patchHeaders(0), body: 'world' })).status).toBe(204);
    expect(failOnce).toBeUndefined();
    expect(finished).not.toContain(uploadIdOf(final));
    const state = await head(final);
    expect(state.status).toBe(200);
    expect(state.headers['upload-offset']).toBe('12');
    expect((await storedBytes(final)).toString()).toBe('Hello, world');
    expect(finished.filter((id) => id === uploadIdOf(final))).toHaveLength(1);
  });
});
