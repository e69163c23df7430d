import { describe, expect, it } from '@jest/globals';
import { IETF_PROFILES, ietfProfile, LATEST_INTEROP_VERSION, PROBLEM_TYPE, UPLOAD_RESUMPTION_SUPPORTED } from './ietf-profile.js';
import { INTEROP_VERSIONS } from './interop-version.js';

describe('IETF_PROFILES', () => {
  it('has one profile per supported version, keyed by its own number', () => {
    expect(Object.keys(IETF_PROFILES).map(Number)).toEqual([...INTEROP_VERSIONS]);
    for (const version of INTEROP_VERSIONS) expect(ietfProfile(version).interopVersion).toBe(version);
    expect(LATEST_INTEROP_VERSION).toBe(8);
  });

  it('names the drafts of each version', () => {
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).drafts)).toEqual([['-01'], ['-02'], ['-03'], ['-04', '-05'], ['-06', '-07', '-08'], ['-09', '-10', '-11']]);
  });

  it('interop 3 says Upload-Incomplete, every later one Upload-Complete', () => {
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).completenessField)).toEqual([
      'Upload-Incomplete',
      'Upload-Complete',
      'Upload-Complete',
      'Upload-Complete',
      'Upload-Complete',
      'Upload-Complete',
    ]);
  });

  it('requires application/partial-upload on appends from interop 6 (draft -04)', () => {
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).appendContentType)).toEqual([null, null, null, 'application/partial-upload', 'application/partial-upload', 'application/partial-upload']);
  });

  it('has Upload-Limit from interop 6, with expires there and max-age after', () => {
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).lifetimeLimitKey)).toEqual([null, null, null, 'expires', 'max-age', 'max-age']);
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).interimUploadLimit)).toEqual([false, false, false, 'may', 'may', 'must']);
  });

  it('reports progress in 104s from interop 5 (draft -03)', () => {
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).interimProgress)).toEqual([false, false, true, true, true, true]);
  });

  it('requires Upload-Offset in responses up to interop 6 and Upload-Complete: ?0 on appends from 7', () => {
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).responseUploadOffsetRequired)).toEqual([true, true, true, true, false, false]);
    expect(INTEROP_VERSIONS.map((v) => ietfProfile(v).appendResponseCompleteness)).toEqual([false, false, false, false, true, true]);
  });

  it('defines the problem types from interop 6, inconsistent length from 7', () => {
    expect(ietfProfile(5).problemTypes).toEqual([]);
    expect(ietfProfile(6).problemTypes).toEqual([PROBLEM_TYPE.mismatchingOffset, PROBLEM_TYPE.completedUpload]);
    expect(ietfProfile(8).problemTypes).toContain(PROBLEM_TYPE.inconsistentLength);
  });

  it('uses the registered IANA problem type URIs and the 104 status text', () => {
    expect(PROBLEM_TYPE).toEqual({
      mismatchingOffset: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
      completedUpload: 'https://iana.org/assignments/http-problem-types#completed-upload',
      inconsistentLength: 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length',
    });
    expect(UPLOAD_RESUMPTION_SUPPORTED).toBe('Upload Resumption Supported');
  });
});
