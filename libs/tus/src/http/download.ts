import type { IncomingMessage } from 'node:http';
import { parseRange, type ByteRange } from '../protocol/range.js';
import { formatHttpDate } from '../protocol/headers.js';
import type { UploadInfo } from '../protocol/upload-info.js';
import { contentDisposition, downloadContentType } from './content-disposition.js';
import { header } from './raw-request.js';
import type { TusHeaders } from './response-headers.js';

/** How to answer a GET for an upload's bytes. */
export type DownloadPlan =
  | { status: 304 | 416; headers: TusHeaders }
  | { status: 200 | 206; headers: TusHeaders; range: ByteRange | undefined };

/**
 * Decides the answer to a download request: caching validators (`ETag`, `Last-Modified`, 304),
 * a single `Range` (206 / 416), and headers that let a browser show safe types inline and never
 * let metadata inject a header.
 */
export function planDownload(upload: UploadInfo, request: IncomingMessage): DownloadPlan {
  const size = upload.offset;
  // Bytes never change once stored, so id, size and completion identify the content.
  const etag = `"${upload.id}-${size}-${upload.completedAt?.getTime() ?? 'partial'}"`;
  const modified = upload.completedAt ?? undefined;
  const validators: TusHeaders = {
    ETag: etag,
    'Last-Modified': modified && formatHttpDate(modified),
    'Cache-Control': 'private, no-cache',
    'Accept-Ranges': 'bytes',
  };
  if (notModified(request, etag, modified)) return { status: 304, headers: validators };

  const range = parseRange(header(request, 'range'), size);
  if (range === 'unsatisfiable') return { status: 416, headers: { ...validators, 'Content-Range': `bytes */${size}` } };
  const contentType = downloadContentType(upload.metadata);
  const headers: TusHeaders = {
    ...validators,
    'Content-Type': contentType,
    'Content-Disposition': contentDisposition(contentType, upload.metadata.filename ?? upload.metadata.name),
    'Content-Length': range ? range.end - range.start + 1 : size,
    'X-Content-Type-Options': 'nosniff',
    'Content-Range': range && `bytes ${range.start}-${range.end}/${size}`,
  };
  return { status: range ? 206 : 200, headers, range };
}

function notModified(request: IncomingMessage, etag: string, modified: Date | undefined): boolean {
  const ifNoneMatch = header(request, 'if-none-match');
  if (ifNoneMatch !== undefined) {
    return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === etag);
  }
  const ifModifiedSince = header(request, 'if-modified-since');
  if (ifModifiedSince === undefined || modified === undefined) return false;
  const since = Date.parse(ifModifiedSince);
  // HTTP dates have whole seconds.
  return !Number.isNaN(since) && Math.floor(modified.getTime() / 1000) * 1000 <= since;
}
