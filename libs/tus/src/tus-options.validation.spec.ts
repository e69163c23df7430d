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

  it('takes idleMinBytes as a non-negative integer', () => {
    expect(validateTusOptions({ idleTimeoutSeconds: 10, idleMinBytes: 100 })).toEqual([]);
    expect(validateTusOptions({ idleMinBytes: -1 })).toEqual(['idleMinBytes must be a non-negative integer']);
    expect(validateTusOptions({ idleMinBytes: 0.5 })).toEqual(['idleMinBytes must be a non-negative integer']);
  });
});

describe('maxMetadataBytes', () => {
  it('takes a positive integer number of bytes', () => {
    expect(validateTusOptions({ maxMetadataBytes: 16_384 })).toEqual([]);
    for (const value of [0, -1, 1.5, '4096']) {
      expect(validateTusOptions({ maxMetadataBytes: value as number })).toEqual(['maxMetadataBytes must be a positive integer number of bytes']);
    }
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
