import { describe, expect, it } from '@jest/globals';
import { ProgressRecorder } from './progress-recorder.js';
import type { StoredPart } from './stored-part.js';

const part = (partNumber: number): StoredPart => ({ partNumber, etag: `"e${partNumber}"`, size: 10 });

/** A record function whose writes the test answers one by one. */
function manualRecords() {
  const writes: { parts: number[]; answer(error?: unknown, recorded?: boolean): void }[] = [];
  const record = (parts: readonly StoredPart[]) =>
    new Promise<boolean>((resolve, reject) => {
      writes.push({
        parts: parts.map((each) => each.partNumber),
        answer: (error, recorded = true) => (error === undefined ? resolve(recorded) : reject(error)),
      });
    });
  return { writes, record };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('ProgressRecorder', () => {
  it('records the contiguous run of parts from the first, one write at a time, coalescing what finished meanwhile', async () => {
    const { writes, record } = manualRecords();
    const recorder = new ProgressRecorder(3, record);
    const held: number[] = [];
    const store = (n: number) => recorder.stored(part(n)).then(() => held.push(n));
    void store(4); // out of order: nothing to record before part 3
    await tick();
    expect(writes).toHaveLength(0);
    void store(3);
    await tick();
    expect(writes.map((write) => write.parts)).toEqual([[3, 4]]);
    void store(6);
    void store(5);
    await tick();
    expect(writes).toHaveLength(1); // one write in flight
    writes[0]!.answer();
    await tick();
    expect(held.sort()).toEqual([3, 4]);
    expect(writes.map((write) => write.parts)).toEqual([[3, 4], [3, 4, 5, 6]]);
    writes[1]!.answer();
    await tick();
    expect(held.sort()).toEqual([3, 4, 5, 6]);
    expect(recorder.recordedParts.map((each) => each.partNumber)).toEqual([3, 4, 5, 6]);
  });

  it('a failed write stops recording: parts waiting and later ones are told so', async () => {
    const { writes, record } = manualRecords();
    const recorder = new ProgressRecorder(1, record);
    const lost = new Error('412');
    const first = recorder.stored(part(1));
    const second = recorder.stored(part(2));
    await tick();
    writes[0]!.answer(lost);
    await expect(first).rejects.toBe(lost);
    await expect(second).rejects.toBe(lost);
    await expect(recorder.stored(part(3))).rejects.toBe(lost);
    expect(writes).toHaveLength(1);
    expect(recorder.recordedParts).toEqual([]);
  });

  it('close() releases the parts still waiting (a gap never filled) and waits for the write in flight', async () => {
    const { writes, record } = manualRecords();
    const recorder = new ProgressRecorder(1, record);
    const first = recorder.stored(part(1));
    const afterGap = recorder.stored(part(3));
    await tick();
    let closed = false;
    const closing = recorder.close().then(() => (closed = true));
    await afterGap;
    await tick();
    expect(closed).toBe(false);
    writes[0]!.answer();
    await closing;
    await first;
    expect(recorder.recordedParts.map((each) => each.partNumber)).toEqual([1]);
    await recorder.stored(part(2)); // after close: nothing more is recorded
    expect(writes).toHaveLength(1);
  });

  it('a write that fails otherwise (S3 down for a moment) or is declined only ends the recording: the request goes on', async () => {
    for (const outcome of ['failed', 'declined'] as const) {
      const { writes, record } = manualRecords();
      const recorder = new ProgressRecorder(1, record, (error) => error instanceof RangeError);
      const first = recorder.stored(part(1));
      await tick();
      if (outcome === 'failed') writes[0]!.answer(new Error('503'));
      else writes[0]!.answer(undefined, false);
      await first;
      await recorder.stored(part(2));
      expect(writes).toHaveLength(1);
      expect(recorder.recordedParts).toEqual([]);
      await recorder.close();
    }
  });

  it('a failure the request must stop on still stops it', async () => {
    const { writes, record } = manualRecords();
    const recorder = new ProgressRecorder(1, record, (error) => error instanceof RangeError);
    const lost = new RangeError('lost condition');
    const first = recorder.stored(part(1));
    await tick();
    writes[0]!.answer(lost);
    await expect(first).rejects.toBe(lost);
  });
});
