import type { UploadMetadata } from '../metadata.js';
import { PARTIAL_UPLOAD_MEDIA_TYPE } from './ietf-profile.js';

/**
 * What a creation request's representation fields say about the file, as upload metadata (the
 * keys tus clients use, so downloads and the app's listeners read one vocabulary): `filetype`
 * from `Content-Type` and `filename` from `Content-Disposition`. "The `Content-Type` header field
 * indicates the media type of the representation ... The `Content-Disposition` header field can
 * be used to transmit a filename" (Upload Creation, Client Behavior, draft -09 on).
 *
 * `application/partial-upload` is the draft's own media type, never the file's: tus-js-client 4.3
 * (`ietf-draft-05`) sends it on a creation that carries data.
 */
export function representationMetadata(contentType: string | undefined, contentDisposition: string | undefined): UploadMetadata {
  const metadata: UploadMetadata = Object.create(null);
  const mediaType = contentType?.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType && mediaType !== PARTIAL_UPLOAD_MEDIA_TYPE) metadata.filetype = mediaType;
  const filename = contentDisposition === undefined ? undefined : dispositionFilename(contentDisposition);
  if (filename) metadata.filename = filename;
  return metadata;
}

/**
 * The file name of a `Content-Disposition` value (RFC 6266 section 4.3): `filename*` (RFC 8187,
 * `UTF-8''...` percent-encoded) when present and decodable, else `filename` (a token or a quoted
 * string); undefined when neither is there. Path separators are not file names: only the last
 * segment is kept.
 */
export function dispositionFilename(value: string): string | undefined {
  const params = dispositionParameters(value);
  const extended = params.get('filename*');
  const decoded = extended === undefined ? undefined : decodeExtendedValue(extended);
  const name = decoded ?? params.get('filename');
  const base = name?.split(/[\\/]/).pop()?.trim();
  return base ? base : undefined;
}

/** The parameters after the disposition type, by lower-cased name (the first of a repeated name). */
function dispositionParameters(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const pattern = /;\s*([!#$%&'*+.^_`|~0-9A-Za-z-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)/g;
  for (const [, rawName = '', rawValue = ''] of value.matchAll(pattern)) {
    const name = rawName.toLowerCase();
    if (params.has(name)) continue;
    const trimmed = rawValue.trim();
    params.set(name, trimmed.startsWith('"') ? trimmed.slice(1, -1).replace(/\\(.)/g, '$1') : trimmed);
  }
  return params;
}

/** RFC 8187 `charset'language'value-chars`, UTF-8 (or ISO-8859-1) only; undefined when it does not decode. */
function decodeExtendedValue(value: string): string | undefined {
  const match = /^(utf-8|iso-8859-1)'[^']*'(.*)$/i.exec(value);
  if (match === null) return undefined;
  const [, charset = '', encoded = ''] = match;
  try {
    if (charset.toLowerCase() === 'utf-8') return decodeURIComponent(encoded);
    return encoded.replace(/%([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)));
  } catch {
    return undefined;
  }
}
