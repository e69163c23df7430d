import { describe, expect, it } from '@jest/globals';
import { onEventLoopWhileFast, SlowCallWatch } from './event-loop-fs.js';

const FAST = 50_000n; // 50 µs
const SLOW = 3_000_000n; // 3 ms

describe('SlowCallWatch', () => {
  it('keeps calls on the event loop while they are fast', () => {
    const watch = new SlowCallWatch();
    for (let i = 0; i < 100; i++) watch.record(FAST, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(true);
  });

  it('shrugs off a slow call now and then (a preempted thread on a busy machine): two in any ten', () => {
    const watch = new SlowCallWatch();
    for (let i = 0; i < 100; i++) watch.record(i % 5 === 0 ? SLOW : FAST, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(true);
  });

  it('sends calls to the thread pool for ten seconds after three slow ones (a network file system)', () => {
    const watch = new SlowCallWatch();
    watch.record(SLOW, 1_000);
    watch.record(SLOW, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(true);
    watch.record(SLOW, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(false);
    expect(watch.useEventLoop(10_999)).toBe(false);
    expect(watch.useEventLoop(11_000)).toBe(true);
  });

  it('also when fast answers come between the slow calls (an EEXIST, a cached read)', () => {
    const watch = new SlowCallWatch();
    for (const elapsed of [SLOW, FAST, SLOW, FAST, FAST]) watch.record(elapsed, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(true);
    watch.record(SLOW, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(false);
  });

  it('forgets slow calls older than the last ten', () => {
    const watch = new SlowCallWatch();
    watch.record(SLOW, 1_000);
    watch.record(SLOW, 1_000);
    for (let i = 0; i < 9; i++) watch.record(FAST, 1_000);
    watch.record(SLOW, 1_000);
    expect(watch.useEventLoop(1_000)).toBe(true);
  });

  it('starts a clean window after a spell: one slow call then does not send calls back to the pool', () => {
    const watch = new SlowCallWatch();
    for (let i = 0; i < 3; i++) watch.record(SLOW, 1_000);
    watch.record(SLOW, 11_000);
    expect(watch.useEventLoop(11_000)).toBe(true);
  });
});

describe('onEventLoopWhileFast', () => {
  it('runs the synchronous form and resolves with its result', async () => {
    let pooled = false;
    const result = await onEventLoopWhileFast(
      () => 42,
      async () => {
        pooled = true;
        return 0;
      },
    );
    expect(result).toBe(42);
    expect(pooled).toBe(false);
  });

  it('turns a throw of the synchronous form into a rejection with the same error', async () => {
    const error = Object.assign(new Error('exists'), { code: 'EEXIST' });
    await expect(
      onEventLoopWhileFast(
        () => {
          throw error;
        },
        async () => undefined,
      ),
    ).rejects.toBe(error);
  });

  it('judges by the watch it is given: slow file creations send only themselves to the pool', async () => {
    const creations = new SlowCallWatch();
    for (let i = 0; i < 3; i++) creations.record(SLOW, Date.now());
    const where = (watch?: SlowCallWatch) =>
      onEventLoopWhileFast(
        () => 'event loop',
        async () => 'pool',
        watch,
      );
    expect(await where(creations)).toBe('pool');
    expect(await where()).toBe('event loop');
  });
});
