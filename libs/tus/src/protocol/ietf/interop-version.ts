import { parseItemField } from './structured-field.parser.js';
import type { FieldInput } from './field-read.js';

/**
 * The interop versions this library knows, oldest first. Each draft names one in its "Draft
 * Version Identification" section ("The current interop version is N."); a draft without a
 * breaking change keeps its predecessor's:
 *
 * | interop | drafts of draft-ietf-httpbis-resumable-upload |
 * |---|---|
 * | 3 | -01 (March 2023; iOS 17 / macOS 14 URLSession) |
 * | 4 | -02 (October 2023) |
 * | 5 | -03 (March 2024; tus-js-client `ietf-draft-03`, iOS 18.0) |
 * | 6 | -04 (July 2024), -05 (October 2024; tus-js-client `ietf-draft-05`, iOS 18.1+) |
 * | 7 | -06, -07, -08 (March-April 2025) |
 * | 8 | -09, -10, -11 (June 2025 - March 2026) and the editor's copy up to July 2026 |
 *
 * Draft -00 (interop 2) used an `Upload-Token` instead of upload URLs and is not supported.
 */
export const INTEROP_VERSIONS = [3, 4, 5, 6, 7, 8] as const;

/** A supported value of `Upload-Draft-Interop-Version`. */
export type InteropVersion = (typeof INTEROP_VERSIONS)[number];

/** The request and 104 field that names the draft iteration (lowercase, as Node keys it). */
export const INTEROP_VERSION_FIELD = 'upload-draft-interop-version';

/**
 * The interop version a request asks for, or `null` when it names none this library supports
 * (absent, not an Integer, several values, or an unknown number).
 *
 * "The `Upload-Draft-Interop-Version` field value is an Integer." (draft -03 on; -01 and -02 give
 * the ABNF `sf-integer`), so it is parsed as a Structured Field Item: parameters are allowed and
 * ignored, `06` is 6. A request without a supported version is not a request of any draft this
 * server implements: "Server implementations of draft versions of the protocol MUST NOT send a
 * `104 (Upload Resumption Supported)` informational response when the interop version indicated
 * by the `Upload-Draft-Interop-Version` header field in the request is missing or mismatching."
 * (Draft Version Identification, every draft from -00 to -11.)
 */
export function detectInteropVersion(value: FieldInput): InteropVersion | null {
  if (value === undefined) return null;
  let parsed;
  try {
    parsed = parseItemField(value);
  } catch {
    return null;
  }
  if (parsed.value.type !== 'integer') return null;
  const version = parsed.value.value;
  return (INTEROP_VERSIONS as readonly number[]).includes(version) ? (version as InteropVersion) : null;
}
