import { describe, expect, it } from '@jest/globals';
import { ietfProfile } from './ietf-profile.js';
import { StructuredFieldError } from './structured-field.types.js';
import { formatUploadLimit, parseUploadLimit } from './upload-limit.js';

describe('formatUploadLimit', () => {
  it('has no field before interop 6', () => {
    expect(formatUploadLimit(ietfProfile(5), { maxSize: 1000 })).toBeNull();
    expect(formatUploadLimit(ietfProfile(3), {})).toBeNull();
  });

  it('writes the drafts\' examples', () => {
    expect(formatUploadLimit(ietfProfile(8), { maxSize: 1_234_567_890 })).toBe('max-size=1234567890');
    expect(formatUploadLimit(ietfProfile(8), { lifetimeSeconds: 3600 })).toBe('max-age=3600');
  });

  it('says min-size=0 when no limit applies ("instead of an empty header value")', () => {
    expect(formatUploadLimit(ietfProfile(6), {})).toBe('min-size=0');
    expect(formatUploadLimit(ietfProfile(8), {})).toBe('min-size=0');
  });

  it('names the lifetime expires for interop 6 and max-age after', () => {
    const limits = { maxSize: 1000, maxAppendSize: 100, lifetimeSeconds: 86_400 };
    expect(formatUploadLimit(ietfProfile(6), limits)).toBe('max-size=1000, max-append-size=100, expires=86400');
    expect(formatUploadLimit(ietfProfile(7), limits)).toBe('max-size=1000, max-append-size=100, max-age=86400');
  });

  it('writes every limit in a fixed order', () => {
    expect(formatUploadLimit(ietfProfile(8), { lifetimeSeconds: 60, minAppendSize: 5, maxAppendSize: 50, minSize: 1, maxSize: 500 })).toBe(
      'max-size=500, min-size=1, max-append-size=50, min-append-size=5, max-age=60',
    );
  });

  it('rounds a lifetime down to whole seconds and never below 0', () => {
    expect(formatUploadLimit(ietfProfile(8), { lifetimeSeconds: 59.9 })).toBe('max-age=59');
    expect(formatUploadLimit(ietfProfile(8), { lifetimeSeconds: -5 })).toBe('max-age=0');
  });

  it.each([{ maxSize: -1 }, { maxSize: 1.5 }, { maxAppendSize: Number.NaN }, { lifetimeSeconds: Number.NaN }, { minSize: 10 ** 16 }])(
    'refuses %p',
    (limits) => {
      expect(() => formatUploadLimit(ietfProfile(8), limits)).toThrow(StructuredFieldError);
    },
  );
});

describe('parseUploadLimit', () => {
  it('reads what formatUploadLimit writes', () => {
    const limits = { maxSize: 500, minSize: 1, maxAppendSize: 50, minAppendSize: 5, lifetimeSeconds: 60 };
    for (const version of [6, 7, 8] as const) {
      const profile = ietfProfile(version);
      expect(parseUploadLimit(profile, formatUploadLimit(profile, limits) ?? '')).toEqual({ kind: 'valid', value: limits });
    }
  });

  it('reads tusd\'s form without spaces', () => {
    expect(parseUploadLimit(ietfProfile(6), 'min-size=0,max-size=1000')).toEqual({ kind: 'valid', value: { minSize: 0, maxSize: 1000 } });
  });

  it('ignores unknown keys ("a member with an unknown key MUST be ignored"), the other version\'s lifetime key among them', () => {
    expect(parseUploadLimit(ietfProfile(8), 'max-size=10, future-limit="x", expires=5')).toEqual({ kind: 'valid', value: { maxSize: 10 } });
    expect(parseUploadLimit(ietfProfile(6), 'max-age=5, expires=7')).toEqual({ kind: 'valid', value: { lifetimeSeconds: 7 } });
  });

  it.each(['max-size="10"', 'max-size=1.5', 'max-size', 'max-age=(1 2)', 'max-size=-1', 'max-size=10,', 'Max-Size=10'])(
    'reads %p as invalid (a known key with a value of unexpected type, or no Dictionary)',
    (value) => {
      expect(parseUploadLimit(ietfProfile(8), value).kind).toBe('invalid');
    },
  );

  it('absent is absent', () => {
    expect(parseUploadLimit(ietfProfile(8), undefined)).toEqual({ kind: 'absent' });
  });
});
