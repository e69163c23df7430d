// Strict base64 (RFC 4648 section 4) with its padding: lenient decoders (Buffer.from) accept
// garbage silently.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Whether `text` is base64 as tus headers carry it (`Upload-Metadata` values, `Upload-Checksum` digests). */
export function isBase64(text: string): boolean {
  return BASE64.test(text);
}
