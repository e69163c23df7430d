import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { type HeldPatch, startHeldRequest } from '../support/http/held-patch.js';
import { send } from '../support/http/requests.js';
import { ietfRequest } from '../support/http/ietf-client.js';
import { appendFields, draft, type Interop, saysComplete } from '../support/http/ietf-draft.js';
import { TARGETS } from '../support/apps/targets.js';
import { startTusApp, type RunningApp } from '../support/apps/tus-app.js';
import { KiB } from '../support/bytes.js';
import { eventually } from '../support/eventually.js';

const VERSION: Interop = 8;

/** A draft request that sends `sent` of the `promised` bytes and then nothing, its connection open: a client whose network went away. */
async function stalledDraftRequest(method: 'POST' | 'PATCH', url: string, headers: Record<string, string>, sent: Buffer, promised: number): Promise<HeldPatch> {
  const held = startHeldRequest(method, url, headers, sent, promised);
  await held.sent;
  return held;
}

/**
 * What tus 1.0 guarantees under concurrency, stalls and timeouts comes from the core, shared with
 * the draft: shown here through the draft's own requests, on both backends and adapters.
 */
describe.each(TARGETS)('the draft under concurrency and stalls, $name', ({ backend, platform }) => {
  let app: RunningApp;
  let idleApp: RunningApp;
  const data = randomBytes(256 * KiB);

  beforeAll(async () => {
    [app, idleApp] = await Promise.all([startTusApp({}, { backend, platform }), startTusApp({ idleTimeoutSeconds: 1 }, { backend, platform })]);
  });
  afterAll(async () => {
    await Promise.all([app?.close(), idleApp?.close()]);
  });

  const create = async (target: RunningApp) => {
    const created = await ietfRequest('POST', target.url, { headers: { ...draft(VERSION, false), 'Upload-Length': data.length } });
    return new URL(created.headers.location!, target.url).href;
  };
  const offsetOf = async (url: string) => Number((await ietfRequest('HEAD', url, { headers: draft(VERSION) })).headers['upload-offset']);

  it('a HEAD for an upload held by a stalled append makes it stop and save: the client resumes at once', async () => {
    const url = await create(app);
    const stalled = await stalledDraftRequest('PATCH', url, appendFields(VERSION, 0, true), data.subarray(0, 40 * KiB), data.length);
    await sleep(1_300); // silent past the stall threshold (1 s), far below the idle timeout (60 s)
    // A HEAD takes the upload over once the append has been silent for the threshold; on a loaded
    // machine the append may still have been waiting for its lock (on Azure, a blob and a lease
    // on the emulator) and begun reading later, so HEADs are repeated, for far less than the idle
    // timeout that would otherwise end it.
    await eventually(async () => (await offsetOf(url)) === 40 * KiB, 10_000, 'a HEAD taking over the stalled append');
    const resumed = await ietfRequest('PATCH', url, { headers: appendFields(VERSION, 40 * KiB, true), body: data.subarray(40 * KiB) });
    expect([resumed.status, saysComplete(VERSION, resumed.headers)]).toEqual([200, true]);
    expect((await send('GET', url)).body.equals(data)).toBe(true);
    stalled.request.destroy();
  });

  it('a stalled creation is taken over the same way: HEAD on the Location of its 104', async () => {
    const stalled = await stalledDraftRequest('POST', app.url, draft(VERSION, true), data.subarray(0, 64 * KiB), data.length);
    // The 104 comes once the upload exists (on a loaded machine, seconds for Azurite's blob and lease).
    await eventually(async () => stalled.interim.length > 0, 10_000, 'the 104');
    expect(stalled.interim).toHaveLength(1);
    const url = new URL(stalled.interim[0]!, app.url).href;
    await sleep(1_300); // silent past the stall threshold (1 s), far below the idle timeout (60 s)
    // As for the append above: HEADs repeated until one finds the creation silent long enough.
    await eventually(async () => (await offsetOf(url)) === 64 * KiB, 10_000, 'a HEAD taking over the stalled creation');
    const resumed = await ietfRequest('PATCH', url, { headers: appendFields(VERSION, 64 * KiB, true), body: data.subarray(64 * KiB) });
    expect(resumed.status).toBe(200);
    expect((await send('GET', url)).body.equals(data)).toBe(true);
    stalled.request.destroy();
  });

  it('ends an append whose body stops arriving for idleTimeoutSeconds, keeping the bytes received', async () => {
    const url = await create(idleApp);
    const stalled = await stalledDraftRequest('PATCH', url, appendFields(VERSION, 0, true), data.subarray(0, 40 * KiB), data.length);
    await stalled.answer; // the server ended it: nothing here ends it
    expect(await offsetOf(url)).toBe(40 * KiB);
    const rest = await ietfRequest('PATCH', url, { headers: appendFields(VERSION, 40 * KiB, true), body: data.subarray(40 * KiB) });
    expect(rest.status).toBe(200);
    expect((await send('GET', url)).body.equals(data)).toBe(true);
  });

  it('two appends at the same offset at once: one is stored, the other refused (409 or 423), never both', async () => {
    const url = await create(app);
    const [a, b] = [randomBytes(128 * KiB), randomBytes(128 * KiB)];
    const answers = await Promise.all([a, b].map((body) => ietfRequest('PATCH', url, { headers: appendFields(VERSION, 0, false), body })));
    const statuses = answers.map((answer) => answer.status).sort();
    expect(statuses[0]).toBe(204);
    expect([409, 423]).toContain(statuses[1]);
    const winner = answers[0]!.status === 204 ? a : b;
    expect(await offsetOf(url)).toBe(winner.length);
    const rest = data.subarray(winner.length);
    await ietfRequest('PATCH', url, { headers: appendFields(VERSION, winner.length, true), body: rest });
    expect((await send('GET', url)).body.equals(Buffer.concat([winner, rest]))).toBe(true);
  });
});
