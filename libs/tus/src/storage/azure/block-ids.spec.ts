import { describe, expect, it } from '@jest/globals';
import { blockId, requestTag } from './block-ids.js';

describe('blockId', () => {
  it('gives every id of every request one length, as Azure requires of one blob', () => {
    const ids = [requestTag(), requestTag()].flatMap((tag) => [1, 9, 10, 50_000, 2 ** 32 - 1].map((position) => blockId(tag, position)));
    expect(new Set(ids.map((id) => id.length))).toEqual(new Set([16]));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('tells two requests staging the same position apart', () => {
    expect(blockId(requestTag(), 7)).not.toBe(blockId(requestTag(), 7));
    const tag = requestTag();
    expect(blockId(tag, 7)).toBe(blockId(tag, 7));
  });

  it('holds the tag and the position, big-endian', () => {
    const tag = Buffer.from('0123456789abcdef', 'hex');
    expect(Buffer.from(blockId(tag, 258), 'base64').toString('hex')).toBe('0123456789abcdef00000102');
  });
});
