import { describe, expect, it } from '@jest/globals';
import { generateUploadId, isValidUploadId } from './upload-id.js';

describe('upload ids', () => {
  it('generates distinct valid ids of 128 bits, across refills of its random pool', () => {
    const ids = new Set(Array.from({ length: 1000 }, generateUploadId));
    expect(ids.size).toBe(1000);
    for (const id of ids) {
      expect(isValidUploadId(id)).toBe(true);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
    }
  });

  it.each([['..'], ['.'], ['a/b'], ['a\\b'], ['a.info'], [''], ['x'.repeat(201)], ['a b'], ['%2e%2e']])(
    'rejects %p, which could name something else',
    (id) => {
      expect(isValidUploadId(id)).toBe(false);
    },
  );
});
