import type { IncomingMessage } from 'node:http';
import { InconsistentLengthError, OffsetMismatchError, UploadCompletedError } from '../../errors/tus.errors.js';
import { IETF_EXPOSED_HEADERS, IETF_REQUEST_HEADERS } from '../../protocol/ietf/ietf-fields.js';
import { type IetfProfile, PROBLEM_TYPE } from '../../protocol/ietf/ietf-profile.js';
import { completedUploadProblem, inconsistentLengthProblem, mismatchingOffsetProblem, type ProblemResponse } from '../../protocol/ietf/problem-details.js';
import { formatUploadComplete } from '../../protocol/ietf/upload-state-fields.js';
import type { CorsFieldLists } from '../cors.js';
import type { TusHeaders } from '../response-headers.js';
import type { ResponseBody } from '../tus-responder.js';

/** CORS of draft responses: the draft's response fields exposed. */
export const IETF_CORS_FIELDS: CorsFieldLists = { expose: IETF_EXPOSED_HEADERS, allowHeaders: IETF_REQUEST_HEADERS };

/**
 * What the draft's front door learned about the upload while a request failed, for the error's
 * answer: the upload's offset ("The response MUST include the correct offset in the
 * `Upload-Offset` header field", 409, draft -06 on; "MUST send the `Upload-Offset` ... when the
 * response is a failure", drafts -01 to -05), whether it is complete ("If the request didn't
 * complete the upload, any response, successful or not, MUST include the `Upload-Complete` header
 * field with a false value", draft -06 on), its limits (a 413 "MUST include the Upload-Limit
 * header", draft -10 on).
 */
export interface DraftErrorFacts {
  offset?: number;
  complete?: boolean;
  uploadLimit?: string | null;
}

const FACTS = new WeakMap<IncomingMessage, DraftErrorFacts>();

/** Adds to what the answer to `request`'s error will say. */
export function recordErrorFacts(request: IncomingMessage, facts: DraftErrorFacts): void {
  FACTS.set(request, { ...FACTS.get(request), ...facts });
}

/**
 * The answer to a draft request's error: the draft's problem details (RFC 9457,
 * `application/problem+json`) where the request's interop version defines a problem type for it
 * (mismatching offset 409, completed upload 400, inconsistent length 400; interop 6 on), else the
 * status with a one-line plain-text reason. Never a tus field.
 */
export function draftErrorAnswer(
  exception: unknown,
  status: number,
  message: string,
  profile: IetfProfile,
  request: IncomingMessage,
): { headers: TusHeaders; body: ResponseBody } {
  const facts = FACTS.get(request) ?? {};
  const offset = facts.offset ?? (exception instanceof OffsetMismatchError ? exception.offsets?.expected : undefined);
  const headers: TusHeaders = {
    'Upload-Draft-Interop-Version': String(profile.interopVersion),
    'Upload-Offset': offset,
    'Upload-Limit': status === 413 ? (facts.uploadLimit ?? undefined) : undefined,
  };
  if (facts.complete !== undefined) {
    const [name, value] = formatUploadComplete(profile, facts.complete);
    headers[name] = value;
  }
  const problem = problemOf(exception, message, profile);
  const body = problem ? { type: problem.contentType, text: problem.body } : { type: 'text/plain; charset=utf-8', text: `${message.replace(/[\r\n]+/g, ' ')}\n` };
  return { headers, body };
}

function problemOf(exception: unknown, message: string, profile: IetfProfile): ProblemResponse | undefined {
  const defines = (type: (typeof PROBLEM_TYPE)[keyof typeof PROBLEM_TYPE]) => profile.problemTypes.includes(type);
  if (exception instanceof OffsetMismatchError && exception.offsets !== undefined && defines(PROBLEM_TYPE.mismatchingOffset)) {
    return mismatchingOffsetProblem(exception.offsets.expected, exception.offsets.provided, message);
  }
  if (exception instanceof InconsistentLengthError && defines(PROBLEM_TYPE.inconsistentLength)) return inconsistentLengthProblem(message);
  if (exception instanceof UploadCompletedError && defines(PROBLEM_TYPE.completedUpload)) return completedUploadProblem(400, message);
  return undefined;
}
