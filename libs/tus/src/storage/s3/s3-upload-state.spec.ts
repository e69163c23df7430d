import { describe, expect, it } from '@jest/globals';
import { settledState, withUntrusted, type S3UploadState } from './s3-upload-state.js';

const MiB = 1024 * 1024;
const part = (partNumber: number) => ({ partNumber, etag: `"e${partNumber}"`, size: 8 * MiB });
const state = (over: Partial<S3UploadState> = {}): S3UploadState => ({ uploadId: 'u', partSize: 8 * MiB, parts: [part(1), part(2)], pending: null, ...over });

describe('withUntrusted', () => {
  it('sets the mark when it reaches past the recorded parts', () => {
    expect(withUntrusted(state(), 5).untrustedThrough).toBe(5);
  });

  it('drops a mark the recorded parts have reached (those numbers hold recorded bytes now)', () => {
    expect('untrustedThrough' in withUntrusted(state({ untrustedThrough: 9 }), 2)).toBe(false);
    expect('untrustedThrough' in withUntrusted(state(), 0)).toBe(false);
  });
});

describe('settledState (what a new request builds on)', () => {
  it('turns a writing mark nobody recovered into an untrusted range: the dead request reached its parts in flight past the records', () => {
    const settled = settledState(state({ writing: { partsInFlight: 4 } }));
    expect(settled.writing).toBeUndefined();
    expect(settled.untrustedThrough).toBe(6);
  });

  it('keeps a wider untrusted mark, and leaves a state without marks as it is', () => {
    expect(settledState(state({ writing: { partsInFlight: 4 }, untrustedThrough: 40 })).untrustedThrough).toBe(40);
    expect(settledState(state())).toEqual(state());
  });
});
