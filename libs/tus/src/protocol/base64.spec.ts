import { describe, expect, it } from '@jest/globals';
import { isBase64 } from './base64.js';

describe('isBase64', () => {
  it.each(['', 'YQ==', 'YWI=', 'YWJj', 'aGVsbG8gd29ybGQ=', '+/+/'])('accepts %p', (text) => {
    expect(isBase64(text)).toBe(true);
  });

  // Unpadded, misplaced padding, URL-safe alphabet, whitespace, a lone character: what Buffer.from() would decode anyway.
  it.each(['YQ', 'YWI', 'Y===', 'YQ==YQ==', '-_-_', 'YW Jj', 'YWJj\n', 'a', '='])('refuses %p', (text) => {
    expect(isBase64(text)).toBe(false);
  });
});
