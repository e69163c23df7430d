import { describe, expect, it } from '@jest/globals';
import { isLockLeftover, LOCK_LEFTOVER_AFTER_MS } from './lock-leftovers.js';

const now = Date.parse('2026-12-07T12:00:00Z');
const blob = (name: string, leased: boolean, ageMs: number) => ({ name, etag: '"0x1"', leased, lastModified: new Date(now - ageMs) });

describe('lock blobs left behind', () => {
  it('are the lock and release blobs that no lease holds and that did not change for a while', () => {
    expect(isLockLeftover(blob('up/abc.lock', false, LOCK_LEFTOVER_AFTER_MS), now)).toBe(true);
    expect(isLockLeftover(blob('up/abc.lock.release', false, 60_000), now)).toBe(true);
  });

  it('are never a held lock, one just created and not yet leased, or an upload’s own blobs', () => {
    expect(isLockLeftover(blob('up/abc.lock', true, 3_600_000), now)).toBe(false);
    expect(isLockLeftover(blob('up/abc.lock', false, LOCK_LEFTOVER_AFTER_MS - 1), now)).toBe(false);
    for (const name of ['up/abc', 'up/abc.info', 'up/abc.lockx']) expect(isLockLeftover(blob(name, false, 3_600_000), now)).toBe(false);
  });
});
