import type { IetfProfile } from './ietf-profile.js';
import { UPLOAD_RESUMPTION_SUPPORTED } from './ietf-profile.js';
import { formatByteCount } from './upload-state-fields.js';

/** An interim (1xx) response: status, reason phrase and fields, in the order they are written. */
export interface InterimResponse {
  readonly status: number;
  readonly reason: string;
  readonly fields: ReadonlyArray<readonly [name: string, value: string]>;
}

/**
 * The 104 that announces a new upload resource: "When sent, it MUST include `Location` header
 * field pointing to the upload resource and MUST include the `Upload-Limit` header field with the
 * corresponding limits if existing." (Upload Creation, Server Behavior, draft -09 on; interop 6
 * and 7: Upload-Limit MAY.) Every 104 carries the interop version: "Server implementations of draft
 * versions of the protocol MUST also send a header field `Upload-Draft-Interop-Version` with the
 * interop version as its value to the `104 (Upload Resumption Supported)` informational response."
 * `uploadLimit` is the value of `formatUploadLimit` (null or omitted where there is none).
 */
export function creationInterim(profile: IetfProfile, location: string, uploadLimit?: string | null): InterimResponse {
  const fields: Array<readonly [string, string]> = [
    ['Upload-Draft-Interop-Version', String(profile.interopVersion)],
    ['Location', location],
  ];
  if (uploadLimit !== undefined && uploadLimit !== null && profile.interimUploadLimit !== false) {
    fields.push(['Upload-Limit', uploadLimit]);
  }
  return { status: 104, reason: UPLOAD_RESUMPTION_SUPPORTED, fields };
}

/**
 * A 104 reporting progress, or `null` for interop 3 and 4, whose 104 carries only the location:
 * "In subsequent informational responses, the `Location` header field MUST NOT be set. An
 * informational response MAY contain the `Upload-Offset` header field with the current upload
 * offset" (Upload Creation, draft -03 on; on appends "SHOULD send" from -09).
 */
export function progressInterim(profile: IetfProfile, offset: number): InterimResponse | null {
  if (!profile.interimProgress) return null;
  return {
    status: 104,
    reason: UPLOAD_RESUMPTION_SUPPORTED,
    fields: [
      ['Upload-Draft-Interop-Version', String(profile.interopVersion)],
      ['Upload-Offset', formatByteCount(offset)],
    ],
  };
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/; // field-name = token (RFC 9110 section 5.1)
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/; // no CR, LF, NUL or other controls (section 5.5)
const REASON = /^[\t\x20-\x7e\x80-\xff]*$/; // reason-phrase (RFC 9112 section 4)

/**
 * The bytes of an interim response on HTTP/1.1, as `ServerResponse.writeEarlyHints` builds its
 * 103 in Node: `HTTP/1.1 104 Upload Resumption Supported\r\n` + fields + `\r\n`. Node 20 has no
 * public way to send a 104 (`writeInformation` exists from Node 24.x and writes the reason
 * "unknown"); the http layer writes this string with the response's raw writer before the final
 * response (docs/ietf-resumable-upload.md, "Writing the 104"). Names and values are checked here
 * because that writer does not check them: a CR or LF would split the response.
 */
export function formatInterimHead(interim: InterimResponse): string {
  if (!Number.isInteger(interim.status) || interim.status < 100 || interim.status > 199 || interim.status === 101) {
    throw new RangeError(`${interim.status} is not an interim status (1xx other than 101)`);
  }
  if (!REASON.test(interim.reason)) throw new RangeError('the reason phrase holds a control character');
  let head = `HTTP/1.1 ${interim.status} ${interim.reason}\r\n`;
  for (const [name, value] of interim.fields) {
    if (!TOKEN.test(name)) throw new RangeError(`"${name}" is not a field name`);
    if (!FIELD_VALUE.test(value)) throw new RangeError(`the value of ${name} holds a control character`);
    head += `${name}: ${value}\r\n`;
  }
  return `${head}\r\n`;
}
