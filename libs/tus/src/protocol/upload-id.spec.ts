import { describe, expect, it } from '@jest/globals';
import { generateUploadId, isValidUploadId } from './upload-id.js';

describe('upload ids', () => {
  it('generates distinct valid ids', () => {
    const ids = new Set(Array.from({ length: 1000 }, generateUploadId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(isValidUploadId(id)).toBe(true);
  });

  it.each([['..'], ['.'], ['a/b'], ['a\\b'], ['a.info'], [''], ['x'.repeat(201)], ['a b'], ['%2e%2e']])(
    'rejects %p, which could name something else',
    (id) => {
      expect(isValidUploadId(id)).toBe(false);
    },
  );
});
