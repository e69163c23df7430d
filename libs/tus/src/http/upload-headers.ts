import { formatHttpDate } from '../protocol/headers.js';
import type { UploadInfo } from '../upload-info.js';
import type { TusHeaders } from './tus-responder.js';

/** Headers that describe an upload's state on HEAD (checklist 8-12). */
export function uploadStateHeaders(upload: UploadInfo): TusHeaders {
  const unfinishedFinal = upload.concat?.type === 'final' && upload.completedAt === null;
  return {
    'Upload-Offset': unfinishedFinal ? undefined : upload.offset,
    'Upload-Length': upload.length ?? undefined,
    'Upload-Defer-Length': upload.length === null ? 1 : undefined,
    'Upload-Metadata': upload.metadataHeader ?? undefined,
    'Upload-Concat': upload.concat === null ? undefined : upload.concat.type === 'partial' ? 'partial' : upload.concat.header,
    ...expiryHeader(upload),
  };
}

/** `Upload-Expires` while the upload can still expire (checklist 29). */
export function expiryHeader(upload: UploadInfo): TusHeaders {
  return upload.expiresAt !== null && upload.completedAt === null ? { 'Upload-Expires': formatHttpDate(upload.expiresAt) } : {};
}
