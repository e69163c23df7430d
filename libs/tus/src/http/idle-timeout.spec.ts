import { describe, expect, it } from '@jest/globals';
import { BodyIdleTimeoutError, isTrickle } from './idle-timeout.js';

describe('isTrickle', () => {
  it.each([
    // minBytes 0: only silence ends a body (today's behaviour), however slow it is.
    [{ received: 0, unread: 0 }, 0, false],
    [{ received: 3, unread: 0 }, 0, false],
    // Fewer bytes than the minimum in a window the server spent waiting: a trickle.
    [{ received: 0, unread: 0 }, 100, true],
    [{ received: 5, unread: 0 }, 100, true],
    [{ received: 99, unread: 0 }, 100, true],
    // The minimum reached: a slow client, but a live one.
    [{ received: 100, unread: 0 }, 100, false],
    [{ received: 1 << 20, unread: 0 }, 100, false],
    // Bytes wait unread in the request: the server's storage held the body back, not the client.
    [{ received: 0, unread: 16_384 }, 100, false],
    [{ received: 5, unread: 1 }, 100, false],
  ])('%p with minBytes %p -> %p', (window, minBytes, expected) => {
    expect(isTrickle(window, minBytes)).toBe(expected);
  });
});

describe('BodyIdleTimeoutError', () => {
  it('says whether the body went silent or trickled', () => {
    expect(new BodyIdleTimeoutError(2000).message).toBe('No request body received for 2000 ms');
    expect(new BodyIdleTimeoutError(2000, 2).message).toBe('Request body too slow: 2 bytes in 2000 ms');
  });
});
