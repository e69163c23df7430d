import { PROBLEM_TYPE, type ProblemType } from './ietf-profile.js';

/** The media type of RFC 9457 problem details. */
export const PROBLEM_JSON = 'application/problem+json';

/** An RFC 9457 problem details object with the draft's extension members. */
export interface ProblemDetails {
  readonly type: ProblemType;
  readonly title: string;
  /** RFC 9457 section 3.1.3: "advisory", the same as the response's status. */
  readonly status: number;
  readonly detail?: string;
  /** Mismatching offset only: the resource's offset. */
  readonly 'expected-offset'?: number;
  /** Mismatching offset only: the request's `Upload-Offset`. */
  readonly 'provided-offset'?: number;
}

/** A problem response: its status, its `Content-Type`, and the JSON body to send. */
export interface ProblemResponse {
  readonly status: number;
  readonly contentType: typeof PROBLEM_JSON;
  readonly problem: ProblemDetails;
  /** `JSON.stringify(problem)`, ready to send. */
  readonly body: string;
}

function response(problem: ProblemDetails): ProblemResponse {
  return { status: problem.status, contentType: PROBLEM_JSON, problem, body: JSON.stringify(problem) };
}

/**
 * 409, "https://iana.org/assignments/http-problem-types#mismatching-upload-offset" (Problem Types,
 * Mismatching Offset, draft -04 on): "A response using this problem type SHOULD populate both
 * members, with the value of `expected-offset` taken from the upload resource and the value of
 * `provided-offset` taken from the upload append request." The response also "MUST include the
 * correct offset in the `Upload-Offset` header field" (Upload Append, draft -06 on) and, in the
 * editor's copy after -11, `Upload-Complete: ?0`.
 */
export function mismatchingOffsetProblem(expectedOffset: number, providedOffset: number, detail?: string): ProblemResponse {
  return response({
    type: PROBLEM_TYPE.mismatchingOffset,
    title: 'offset from request does not match offset of resource',
    status: 409,
    ...(detail === undefined ? {} : { detail }),
    'expected-offset': expectedOffset,
    'provided-offset': providedOffset,
  });
}

/**
 * 400 by default, "https://iana.org/assignments/http-problem-types#completed-upload" (Problem
 * Types, Completed Upload, drafts -04 to -11; IANA: "Recommended HTTP status code: 400"). Drafts
 * -10 and -11 also allow `410 (Gone)` for a zero-length append to a completed upload: pass 410.
 */
export function completedUploadProblem(status: 400 | 410 = 400, detail?: string): ProblemResponse {
  return response({
    type: PROBLEM_TYPE.completedUpload,
    title: 'upload is already completed',
    status,
    ...(detail === undefined ? {} : { detail }),
  });
}

/**
 * 400, "https://iana.org/assignments/http-problem-types#inconsistent-upload-length" (Problem
 * Types, Inconsistent Length, draft -06 on): "to indicate that the request includes inconsistent
 * upload length values"; drafts -10 and -11 also use it for a non-empty append to a completed
 * upload.
 */
export function inconsistentLengthProblem(detail?: string): ProblemResponse {
  return response({
    type: PROBLEM_TYPE.inconsistentLength,
    title: 'inconsistent length values for upload',
    status: 400,
    ...(detail === undefined ? {} : { detail }),
  });
}
