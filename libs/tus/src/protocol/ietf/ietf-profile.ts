import { INTEROP_VERSIONS, type InteropVersion } from './interop-version.js';

/** Problem type URIs (RFC 9457) the drafts register; see `problem-details.ts`. */
export const PROBLEM_TYPE = {
  /** 409: the request's `Upload-Offset` is not the resource's offset (draft -04 on). */
  mismatchingOffset: 'https://iana.org/assignments/http-problem-types#mismatching-upload-offset',
  /** 400: the upload is already complete (drafts -04 to -11; dropped from the editor's copy after -11). */
  completedUpload: 'https://iana.org/assignments/http-problem-types#completed-upload',
  /** 400: lengths from `Upload-Length` and `Content-Length` + `Upload-Complete: ?1` disagree (draft -06 on). */
  inconsistentLength: 'https://iana.org/assignments/http-problem-types#inconsistent-upload-length',
} as const;

export type ProblemType = (typeof PROBLEM_TYPE)[keyof typeof PROBLEM_TYPE];

/** The status text of the 104 in every draft: "104 (Upload Resumption Supported)". */
export const UPLOAD_RESUMPTION_SUPPORTED = 'Upload Resumption Supported';

/** The media type an append (PATCH) carries from interop version 6 (draft -04) on. */
export const PARTIAL_UPLOAD_MEDIA_TYPE = 'application/partial-upload';

/**
 * What differs between the interop versions, as a server sees it. One object per version
 * (`IETF_PROFILES`); every requirement is quoted with its draft section in
 * docs/ietf-resumable-upload.md.
 */
export interface IetfProfile {
  /** The value of `Upload-Draft-Interop-Version` in requests and in every 104. */
  readonly interopVersion: InteropVersion;
  /** The drafts (suffixes of draft-ietf-httpbis-resumable-upload) that define this version. */
  readonly drafts: readonly string[];
  /**
   * The field that says whether an upload is complete: `Upload-Incomplete` (interop 3, draft -01,
   * true while incomplete) or `Upload-Complete` (interop 4 on: "Replace Upload-Incomplete header
   * with Upload-Complete", changes since -01). Both are Structured Field Booleans, `?1` / `?0`.
   */
  readonly completenessField: 'Upload-Incomplete' | 'Upload-Complete';
  /** Whether `Upload-Length` exists (draft -05 on; interop 6 spans -04, which lacked it: accept it). */
  readonly uploadLengthField: boolean;
  /**
   * The `Upload-Limit` key for the resource's remaining lifetime: `expires` (interop 6) or
   * `max-age` (interop 7 on: "Rename `expires` limit to `max-age`"); `null` where the version has
   * no `Upload-Limit` at all (interop 3 to 5).
   */
  readonly lifetimeLimitKey: 'expires' | 'max-age' | null;
  /**
   * The media type a PATCH append MUST carry, or `null` where any (or none) is accepted: "The
   * request MUST use the `PATCH` method with the `application/partial-upload` media type" (Upload
   * Append, draft -04 on; "Require `application/partial-upload` for appending to uploads").
   */
  readonly appendContentType: typeof PARTIAL_UPLOAD_MEDIA_TYPE | null;
  /** Whether a 104 may report progress with `Upload-Offset` while the content arrives (draft -03 on). */
  readonly interimProgress: boolean;
  /**
   * Whether the 104 announcing the upload carries `Upload-Limit`: MAY (interop 6 and 7) or "MUST
   * include the `Upload-Limit` header field ... if existing" (interop 8, draft -09 on). `false` where
   * the version has no `Upload-Limit`.
   */
  readonly interimUploadLimit: 'may' | 'must' | false;
  /**
   * Whether creation and append responses MUST carry `Upload-Offset`: "The server MUST send the
   * `Upload-Offset` header field in the response if it considers the upload active" (drafts -01 to
   * -05); draft -06 on: "Require `Upload-Complete`, but not `Upload-Offset` or `Upload-Limit`, for
   * append responses". tus-js-client reads `Upload-Offset` from every append response, so a server
   * sends it anyway.
   */
  readonly responseUploadOffsetRequired: boolean;
  /**
   * Whether every append response that does not complete the upload MUST carry `Upload-Complete: ?0`
   * (draft -06 on: "If the request didn't complete the upload, any response, successful or not,
   * MUST include the `Upload-Complete` header field with a false value").
   */
  readonly appendResponseCompleteness: boolean;
  /** The status a successful non-final append is RECOMMENDED to have: 201 (to -05), any 2xx (204 in the examples) after. */
  readonly appendSuccessStatus: 201 | 204;
  /** Whether an `OPTIONS` response MUST carry `Upload-Limit` (`min-size=0` when no limit applies; draft -05 on). */
  readonly optionsUploadLimit: boolean;
  /**
   * Whether an `OPTIONS` response carries `Accept-Patch: application/partial-upload`: drafts -10
   * and -11 ("MUST include the `Accept-Patch`"); the editor's copy after -11 removed it again
   * ("Remove Accept-Patch from OPTIONS responses") within the same interop version 8, so sending
   * it is right for all of 8.
   */
  readonly optionsAcceptPatch: boolean;
  /** The problem types this version defines, each with the status the draft gives it. */
  readonly problemTypes: readonly ProblemType[];
  /** Whether the draft describes `Content-Digest` / `Repr-Digest` (RFC 9530) on uploads (draft -04 on). */
  readonly digestFields: boolean;
}

const upTo = (version: InteropVersion, last: InteropVersion): boolean => version <= last;

function profile(interopVersion: InteropVersion, drafts: readonly string[]): IetfProfile {
  const v = interopVersion;
  return {
    interopVersion,
    drafts,
    completenessField: v === 3 ? 'Upload-Incomplete' : 'Upload-Complete',
    uploadLengthField: v >= 6,
    lifetimeLimitKey: v < 6 ? null : v === 6 ? 'expires' : 'max-age',
    appendContentType: v >= 6 ? PARTIAL_UPLOAD_MEDIA_TYPE : null,
    interimProgress: v >= 5,
    interimUploadLimit: v < 6 ? false : v < 8 ? 'may' : 'must',
    responseUploadOffsetRequired: upTo(v, 6),
    appendResponseCompleteness: v >= 7,
    appendSuccessStatus: v <= 6 ? 201 : 204,
    optionsUploadLimit: v >= 6,
    optionsAcceptPatch: v >= 8,
    problemTypes:
      v < 6
        ? []
        : v === 6
          ? [PROBLEM_TYPE.mismatchingOffset, PROBLEM_TYPE.completedUpload]
          : [PROBLEM_TYPE.mismatchingOffset, PROBLEM_TYPE.completedUpload, PROBLEM_TYPE.inconsistentLength],
    digestFields: v >= 6,
  };
}

/** One profile per supported interop version. */
export const IETF_PROFILES: Readonly<Record<InteropVersion, IetfProfile>> = {
  3: profile(3, ['-01']),
  4: profile(4, ['-02']),
  5: profile(5, ['-03']),
  6: profile(6, ['-04', '-05']),
  7: profile(7, ['-06', '-07', '-08']),
  8: profile(8, ['-09', '-10', '-11']),
};

/** The profile of a supported interop version (see `detectInteropVersion`). */
export function ietfProfile(version: InteropVersion): IetfProfile {
  return IETF_PROFILES[version];
}

/** The newest supported interop version. */
export const LATEST_INTEROP_VERSION: InteropVersion = INTEROP_VERSIONS[INTEROP_VERSIONS.length - 1] as InteropVersion;
