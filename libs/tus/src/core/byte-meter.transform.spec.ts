import { describe, expect, it } from '@jest/globals';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ByteMeter } from './byte-meter.transform.js';
import { PayloadTooLargeError } from '../errors/tus.errors.js';

async function run(pieces: Buffer[], meter: ByteMeter): Promise<number> {
  let received = 0;
  const sink = new Writable({
    write(piece: Buffer, _encoding, callback) {
      received += piece.length;
      callback();
    },
  });
  await pipeline(Readable.from(pieces), meter, sink);
  return received;
}

describe('ByteMeter', () => {
  it('passes bytes up to the limit and reports progress', async () => {
    const progress: number[] = [];
    const meter = new ByteMeter(10, 'too big', (bytes) => progress.push(bytes));
    expect(await run([Buffer.alloc(4), Buffer.alloc(6)], meter)).toBe(10);
    expect(progress).toEqual([4, 10]);
    expect(meter.bytes).toBe(10);
  });

  it('fails with 413 before a byte past the limit reaches the sink', async () => {
    const meter = new ByteMeter(5, 'past Upload-Length');
    let received = -1;
    const attempt = run([Buffer.alloc(3), Buffer.alloc(3)], meter).then((n) => (received = n));
    await expect(attempt).rejects.toBeInstanceOf(PayloadTooLargeError);
    expect(received).toBe(-1);
  });
});
