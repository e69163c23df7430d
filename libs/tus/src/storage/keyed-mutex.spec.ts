import { describe, expect, it } from '@jest/globals';
import { setTimeout as sleep } from 'node:timers/promises';
import { UploadLockedError } from '../errors/tus.errors.js';
import { KeyedMutex } from './keyed-mutex.js';

describe('KeyedMutex', () => {
  it('grants holders of one key in arrival order, other keys at once', async () => {
    const mutex = new KeyedMutex();
    const order: string[] = [];
    const first = await mutex.acquire('a', 1000);
    const second = mutex.acquire('a', 1000).then((release) => (order.push('second'), release));
    const third = mutex.acquire('a', 1000).then((release) => (order.push('third'), release));
    const other = await mutex.acquire('b', 10);
    order.push('other');
    await sleep(10);
    order.push('first releases');
    first();
    (await second)();
    (await third)();
    other();
    expect(order).toEqual(['other', 'first releases', 'second', 'third']);
    expect(mutex.isLocked('a')).toBe(false);
  });

  it('times out with 423 and leaves the queue consistent', async () => {
    const mutex = new KeyedMutex();
    const release = await mutex.acquire('a', 1000);
    await expect(mutex.acquire('a', 20)).rejects.toBeInstanceOf(UploadLockedError);
    release();
    const again = await mutex.acquire('a', 20);
    again();
    again(); // a second release is harmless
    expect(mutex.isLocked('a')).toBe(false);
  });
});
