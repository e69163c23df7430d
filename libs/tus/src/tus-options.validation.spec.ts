import { describe, expect, it } from '@jest/globals';
import { normalizeTusPath, validateTusOptions } from './tus-options.validation.js';

describe('validateTusOptions', () => {
  it('accepts the defaults and a full valid set', () => {
    expect(validateTusOptions({})).toEqual([]);
    expect(
      validateTusOptions({
        uploadDir: '/tmp/x',
        maxSize: () => 5,
        expirationSeconds: null,
        extensions: ['creation'],
        relativeLocation: true,
        trustForwardedHeaders: false,
        generateId: () => 'id',
        metadataOverride: (_req, metadata) => metadata,
        postReceiveIntervalMs: 0,
      }),
    ).toEqual([]);
  });

  it('reports every problem at once', () => {
    const problems = validateTusOptions({ uploadDir: '', maxSize: 0, expirationSeconds: -5, postReceiveIntervalMs: -1 });
    expect(problems).toHaveLength(4);
  });
});

describe('normalizeTusPath', () => {
  it.each([
    ['/files', '/files'],
    ['files', '/files'],
    ['/api/files/', '/api/files'],
    ['/', '/'],
  ])('%p -> %p', (path, expected) => expect(normalizeTusPath(path)).toBe(expected));

  it.each([['/files/:id'], ['/a b'], ['/files?x']])('rejects %p', (path) => {
    expect(() => normalizeTusPath(path)).toThrow(TypeError);
  });
});
