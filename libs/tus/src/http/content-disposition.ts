import type { UploadMetadata } from '../protocol/metadata.js';

// Served inline: types a browser renders without running anything. SVG and HTML are not here:
// they can carry script, so they download.
const INLINE = /^(image\/(png|jpeg|gif|webp|avif|bmp)|video\/[\w.+-]+|audio\/[\w.+-]+|application\/pdf|text\/plain)$/;
const MEDIA_TYPE = /^[\w!#$&^.+-]+\/[\w!#$&^.+-]+$/;

/** The type to serve a download as: the metadata's `filetype` or `contentType` when it is a plain media type. */
export function downloadContentType(metadata: UploadMetadata): string {
  const declared = (metadata.filetype ?? metadata.contentType ?? '').trim().toLowerCase();
  return MEDIA_TYPE.test(declared) ? declared : 'application/octet-stream';
}

/**
 * `Content-Disposition` for a download (RFC 6266): `inline` only for safe types, else
 * `attachment`; the filename as an ASCII fallback (stripped of quotes, backslashes and control
 * characters, so metadata cannot inject a header) plus `filename*` in UTF-8 (RFC 5987).
 */
export function contentDisposition(contentType: string, filename: string | undefined): string {
  const disposition = INLINE.test(contentType) ? 'inline' : 'attachment';
  const name = filename?.replace(/[\u0000-\u001f\u007f"\\]/g, '').trim();
  if (!name) return disposition;
  const fallback = name.replace(/[^\x20-\x7e]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `${disposition}; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
