import { describe, expect, it } from '@jest/globals';
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { send, uploadIdOf } from '../support/http/requests.js';
import { ietfRequest } from '../support/http/ietf-client.js';
import { appendFields, draft, saysComplete } from '../support/http/ietf-draft.js';
import { startRelay } from '../support/http/relay.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { bucketStore, folderStore } from '../support/storage/sample-stores.js';
import { PLATFORMS } from '../support/apps/tus-app.js';
import { MiB, sha256 } from '../support/bytes.js';
import { eventually } from '../support/eventually.js';

/** The sample's S3 part size (the backend's default): what S3 records of a request still running. */
const PART_SIZE = 8 * MiB;

const CASES = [folderStore, bucketStore].flatMap((store) => PLATFORMS.map((platform) => ({ store, platform, name: `${store().name} on ${platform}` })));

/**
 * A SIGKILL of the server in the middle of a draft creation's content, the client holding the rest
 * back: after a restart on the same storage, HEAD on the 104's Location answers what was stored (the
 * file backend: every byte that arrived; S3: every whole part), and the client completes the upload
 * from there, bytes intact. The relay keeps one address across the restart, so the 104's URL stays
 * valid, as a deployment's host name does.
 */
describe.each(CASES)('a crash during a draft creation, $name', ({ store: makeStore, platform }) => {
  it('the upload survives a SIGKILL mid-content and is completed from the 104\'s Location', async () => {
    const store = makeStore();
    await store.setUp();
    const relay = await startRelay();
    const env = { ...store.env(), HTTP_ADAPTER: platform };
    let sample: SampleProcess | undefined = await startSample(env);
    try {
      relay.target = Number(new URL(sample.url).port);
      const data = randomBytes(20 * MiB + 4321);
      const heldAt = 12 * MiB;
      relay.bodyLimit = relay.bodyBytes + heldAt;
      const { hostname, port } = new URL(relay.origin);
      const socket = connect(Number(port), hostname);
      socket.on('error', () => undefined);
      await once(socket, 'connect');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString('latin1')));
      const fields = Object.entries(draft(8, true)).map(([name, value]) => `${name}: ${value}\r\n`).join('');
      socket.write(`POST /files HTTP/1.1\r\nHost: ${relay.origin.slice('http://'.length)}\r\n${fields}Content-Length: ${data.length}\r\n\r\n`);
      socket.write(data);
      await eventually(async () => received.includes('\r\n\r\n'));
      const location = /\r\nLocation: (\S+)\r\n/.exec(received)?.[1];
      expect(received.startsWith('HTTP/1.1 104 ')).toBe(true);
      const url = new URL(location!, relay.origin).href;
      const id = uploadIdOf(url);
      // What the server got of the held-back body has reached storage: then the kill.
      const durable = store.name === 'file' ? heldAt : Math.floor(heldAt / PART_SIZE) * PART_SIZE;
      await eventually(async () => (await store.stored(id).catch(() => 0)) >= durable, 60_000);
      sample.process.kill('SIGKILL');
      await once(sample.process, 'exit');
      socket.destroy();

      sample = await startSample(env);
      relay.target = Number(new URL(sample.url).port);
      relay.bodyLimit = null;
      const head = await ietfRequest('HEAD', url, { headers: draft(8) });
      expect([head.status, saysComplete(8, head.headers)]).toEqual([204, false]);
      const offset = Number(head.headers['upload-offset']);
      expect(offset).toBe(durable);
      const rest = await ietfRequest('PATCH', url, { headers: appendFields(8, offset, true), body: data.subarray(offset) });
      expect([rest.status, rest.headers['upload-offset']]).toEqual([200, String(data.length)]);
      expect(sha256((await send('GET', url)).body)).toBe(sha256(data));
    } finally {
      await sample?.stop();
      await relay.close();
      await store.tearDown();
    }
  });
});
