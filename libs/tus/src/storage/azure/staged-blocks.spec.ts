import { describe, expect, it } from '@jest/globals';
import { CHECK_STAGED_BLOCKS_AFTER_MS, mayHaveLostBlocks } from './staged-blocks.js';

const now = Date.parse('2030-01-10T00:00:00Z');
const state = (stagedAt: string | null, blocks = 1) => ({ blockSize: 1, blocks: Array.from({ length: blocks }, () => ({ id: 'x', size: 1 })), stagedAt });

describe('mayHaveLostBlocks', () => {
  it('checks the blocks of an upload idle for six days or more, a day before Azure discards them', () => {
    expect(mayHaveLostBlocks(state(new Date(now - CHECK_STAGED_BLOCKS_AFTER_MS).toISOString()), now)).toBe(true);
    expect(mayHaveLostBlocks(state(new Date(now - CHECK_STAGED_BLOCKS_AFTER_MS + 1).toISOString()), now)).toBe(false);
  });

  it('has nothing to check without staged blocks', () => {
    expect(mayHaveLostBlocks(state(null, 0), now)).toBe(false);
    expect(mayHaveLostBlocks(state('2020-01-01T00:00:00Z', 0), now)).toBe(false);
  });
});
