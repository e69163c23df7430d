import { describe, expect, it } from '@jest/globals';
import { completedUploadProblem, inconsistentLengthProblem, mismatchingOffsetProblem, PROBLEM_JSON } from './problem-details.js';

describe('problem details', () => {
  it('mismatching offset: the example of draft -11 (Problem Types, Mismatching Offset)', () => {
    const problem = mismatchingOffsetProblem(12_500_000, 25_000_000);
    expect(problem.status).toBe(409);
    expect(problem.contentType).toBe(PROBLEM_JSON);
    expect(JSON.parse(problem.body)).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
      title: 'offset from request does not match offset of resource',
      status: 409,
      'expected-offset': 12_500_000,
      'provided-offset': 25_000_000,
    });
  });

  it('completed upload: 400 as IANA recommends, 410 where drafts -10/-11 allow it', () => {
    const problem = completedUploadProblem();
    expect(problem.status).toBe(400);
    expect(JSON.parse(problem.body)).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#completed-upload',
      title: 'upload is already completed',
      status: 400,
    });
    expect(completedUploadProblem(410).status).toBe(410);
  });

  it('inconsistent length: 400, with an optional detail', () => {
    const problem = inconsistentLengthProblem('Upload-Length 100 but Content-Length 25 with Upload-Complete: ?1');
    expect(problem.status).toBe(400);
    expect(JSON.parse(problem.body)).toEqual({
      type: 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length',
      title: 'inconsistent length values for upload',
      status: 400,
      detail: 'Upload-Length 100 but Content-Length 25 with Upload-Complete: ?1',
    });
  });

  it('keeps the body and the object in step', () => {
    const problem = mismatchingOffsetProblem(1, 2, 'resume at 1');
    expect(JSON.parse(problem.body)).toEqual(problem.problem);
  });
});
