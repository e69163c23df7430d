import { expect } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually } from '../eventually.js';
import { createUpload, offsetOf, patchHeaders, send, sendInterruptedPatch, storedBytes } from './requests.js';

/** A point where the app holds the next request (a storage call, a guard) until the test lets it go. */
export interface Hold {
  /** Resolves once the request waits there. */
  entered: Promise<void>;
  release(): void;
}

/** A gate for one request: `gate.open` is what the holding code awaits, after saying it entered. */
export function holdGate(): { hold: Hold; gate: { entered: () => void; open: Promise<void> } } {
  let release!: () => void;
  let entered!: () => void;
  const open = new Promise<void>((resolve) => (release = resolve));
  const waiting = new Promise<void>((resolve) => (entered = resolve));
  return { hold: { entered: waiting, release }, gate: { entered, open } };
}

/**
 * Checklist 18 while a request is held before anything reads its body: an upload of 19 bytes (the
 * first `offset` stored), a PATCH that sends 8 of the 14 it promises and is cut while `holdNext()`
 * holds it, the hold released long after the cut. HEAD shows the 8 bytes and the upload completes.
 */
export async function expectBytesKeptAcrossHeldCut(endpoint: string, offset: number, holdNext: () => Hold): Promise<void> {
  const content = Buffer.from('hello, early bytes!');
  const upload = await createUpload(endpoint, { 'Upload-Length': content.length });
  if (offset > 0) expect((await send('PATCH', upload, { headers: patchHeaders(0), body: content.subarray(0, offset) })).status).toBe(204);

  const hold = holdNext();
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
}
