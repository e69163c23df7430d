/** The protocol version this server speaks (tus 1.0.0, "Core Protocol"). */
export const TUS_VERSION = '1.0.0';

/** Content type of a PATCH body and of a creation-with-upload body. */
export const OFFSET_OCTET_STREAM = 'application/offset+octet-stream';

/** Every extension this module implements, in the order `Tus-Extension` lists them. */
export const TUS_EXTENSIONS = [
  'creation',
  'creation-with-upload',
  'creation-defer-length',
  'termination',
  'expiration',
  'checksum',
  'checksum-trailer',
  'concatenation',
  'concatenation-unfinished',
] as const;

export type TusExtension = (typeof TUS_EXTENSIONS)[number];

/** Headers a browser client must be allowed to read (checklist 39). */
export const TUS_EXPOSED_HEADERS = [
  'Location',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'Upload-Expires',
  'Tus-Version',
  'Tus-Resumable',
  'Tus-Max-Size',
  'Tus-Extension',
  'Tus-Checksum-Algorithm',
] as const;

/** Request headers a browser client must be allowed to send (checklist 40). */
export const TUS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Upload-Offset',
  'Upload-Length',
  'Upload-Metadata',
  'Upload-Defer-Length',
  'Upload-Concat',
  'Upload-Checksum',
  'Tus-Resumable',
  'X-HTTP-Method-Override',
  'X-Requested-With',
  'X-Request-ID',
] as const;

/** Methods the tus routes answer. */
export const TUS_METHODS = ['POST', 'GET', 'HEAD', 'PATCH', 'DELETE', 'OPTIONS'] as const;
