import { formatHttpDate } from '../../protocol/headers.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import type { TusHeaders } from '../response-headers.js';

/** Headers that describe an upload's state on HEAD (checklist 8-12). */
export function uploadStateHeaders(upload: UploadInfo): TusHeaders {
  const unfinishedFinal = upload.concat?.type === 'final' && upload.completedAt === null;
  return {
    'Upload-Offset': unfinishedFinal ? undefined : upload.offset,
    'Upload-Length': upload.length ?? undefined,
    'Upload-Defer-Length': upload.length === null ? 1 : undefined,
    'Upload-Metadata': upload.metadataHeader ?? undefined,
    ...concatHeader(upload),
    ...expiryHeader(upload),
  };
}

/**
 * `Upload-Concat` of a partial or final upload, as the client sent it: a request and response
 * header (concatenation extension), echoed on the 201 of its creation and on every HEAD (checklist 12).
 */
export function concatHeader(upload: UploadInfo): TusHeaders {
  if (upload.concat === null) return {};
  return { 'Upload-Concat': upload.concat.type === 'partial' ? 'partial' : upload.concat.header };
}

/** `Upload-Expires` while the upload can still expire (checklist 29). */
export function expiryHeader(upload: UploadInfo): TusHeaders {
  return upload.expiresAt !== null && upload.completedAt === null ? { 'Upload-Expires': formatHttpDate(upload.expiresAt) } : {};
}
