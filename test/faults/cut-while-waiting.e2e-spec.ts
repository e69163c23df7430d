import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { TusStorageBackend } from 'nestjs-tus';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type TusApp } from '../support/apps/tus-app.js';
import { expectBytesKeptAcrossHeldCut, holdGate, type Hold } from '../support/http/cut-while-held.js';

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

  /** Holds the next `get` until released. */
  function holdNextGet(): Hold {
    const { hold, gate: next } = holdGate();
    gate = next;
    return hold;
  }

  it.each([
    ['a first chunk', 0],
    ['a later chunk', 5],
  ])('%s: the bytes sent before the cut are stored once the wait ends, and the upload completes', async (_name, offset) => {
    await expectBytesKeptAcrossHeldCut(app.url, offset, holdNextGet);
  });
});
