import { describe, expect, it } from '@jest/globals';
import { BodyIdleTimeoutError } from '../errors/tus.errors.js';
import { isTrickle } from './idle-timeout.js';

describe('isTrickle', () => {
  it.each([
    // minBytes 0: only silence ends a body (today's behaviour), however slow it is.
    [{ received: 0, heldBack: false }, 0, false],
    [{ received: 3, heldBack: false }, 0, false],
    // Fewer bytes than the minimum in a window the server spent waiting: a trickle.
    [{ received: 0, heldBack: false }, 100, true],
    [{ received: 5, heldBack: false }, 100, true],
    [{ received: 99, heldBack: false }, 100, true],
    // The minimum reached: a slow client, but a live one.
    [{ received: 100, heldBack: false }, 100, false],
    [{ received: 1 << 20, heldBack: false }, 100, false],
    // The server paused the body (slow storage) at some moment of the window: not the client's doing.
    [{ received: 0, heldBack: true }, 100, false],
    [{ received: 5, heldBack: true }, 100, false],
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
