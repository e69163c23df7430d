import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { TusStorageBackend } from 'nestjs-tus';
import { setTimeout as sleep } from 'node:timers/promises';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';
import { eventually } from '../support/eventually.js';
import { createUpload, offsetOf, patchHeaders, send, sendInterruptedPatch, storedBytes } from '../support/http/requests.js';

/**
 * Checklist 18 ("keep what arrived") for bytes a client sends and then loses its connection while
 * its PATCH still waits for the upload's lock or for the storage, before anything reads the body.
 * Node drops a destroyed request's buffered bytes; the module takes the body in from the moment the
 * request reaches its route, so they survive. The wait is held open at the storage's `get` (on S3 a
 * lock PUT and an `.info` GET, 10 ms idle and seconds under load: the test failed then, about one
 * loaded run in several, before the body was taken in early).
 */
describe.each(TARGETS)('bytes cut off while the PATCH waits, on the $name', ({ backend, platform }) => {
  let app: TusApp;
  /** While set, the storage's `get` says it entered and waits for `open`. */
  let gate: { entered: () => void; open: Promise<void> } | undefined;

  beforeAll(async () => {
    app = await startTusApp({}, { backend, platform });
    const store = app.app.get<TusStorageBackend>(TusStorageBackend);
    const get = store.get.bind(store);
    store.get = async (id) => {
      const held = gate;
      if (held) {
        gate = undefined;
        held.entered();
        await held.open;
      }
      return get(id);
    };
  });
  afterAll(async () => {
    await app?.close();
  });

  /** Holds the next `get` until the returned `release` is called; `entered` resolves once it waits. */
  function holdNextGet(): { entered: Promise<void>; release: () => void } {
    let release!: () => void;
    let entered!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    const waiting = new Promise<void>((resolve) => (entered = resolve));
    gate = { entered, open };
    return { entered: waiting, release };
  }

  it.each([
    ['a first chunk', 0],
    ['a later chunk', 5],
  ])('%s: the bytes sent before the cut are stored once the wait ends, and the upload completes', async (_name, offset) => {
    const content = Buffer.from('hello, early bytes!');
    const upload = await createUpload(app.url, { 'Upload-Length': content.length });
    if (offset > 0) expect((await send('PATCH', upload, { headers: patchHeaders(0), body: content.subarray(0, offset) })).status).toBe(204);

    const hold = holdNextGet();
    // 8 bytes of the 14 promised, then the connection is cut while the PATCH is held at `get`.
    const cut = sendInterruptedPatch(upload, offset, content.subarray(offset, offset + 8), content.length - offset, 50);
    await hold.entered;
    await cut;
    // Long after the cut: the request is destroyed; only bytes the module took in remain.
    await sleep(300);
    hold.release();

    await eventually(async () => (await offsetOf(upload)) === offset + 8, 10_000, `offset ${offset + 8}`);
    const rest = await send('PATCH', upload, { headers: patchHeaders(offset + 8), body: content.subarray(offset + 8) });
    expect(rest.status).toBe(204);
    expect(await storedBytes(upload)).toEqual(content);
  });
});
