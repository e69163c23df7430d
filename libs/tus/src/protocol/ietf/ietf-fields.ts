/**
 * Response fields of the draft a browser client must be allowed to read (CORS
 * `Access-Control-Expose-Headers` on draft responses): the upload's URL and state, its limits.
 */
export const IETF_EXPOSED_HEADERS = [
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Complete',
  'Upload-Incomplete',
  'Upload-Limit',
  'Upload-Draft-Interop-Version',
  'Accept-Patch',
] as const;

/**
 * Request fields a browser client of the draft sends (CORS `Access-Control-Allow-Headers` of a
 * preflight, which cannot tell which protocol will follow): the draft's state fields, the RFC 9530
 * digests, the representation's `Content-Disposition`, and the tus fields tus-js-client 4.3 also
 * sends in its draft modes (`Upload-Metadata`, `Upload-Defer-Length`).
 */
export const IETF_REQUEST_HEADERS = [
  'Upload-Draft-Interop-Version',
  'Upload-Complete',
  'Upload-Incomplete',
  'Upload-Offset',
  'Upload-Length',
  'Content-Type',
  'Content-Disposition',
  'Content-Digest',
  'Repr-Digest',
  'Upload-Metadata',
  'Upload-Defer-Length',
] as const;
