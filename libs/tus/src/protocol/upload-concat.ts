import { InvalidRequestError } from '../errors/tus.errors.js';

/** A parsed `Upload-Concat` header (tus concatenation extension). */
export type UploadConcat = { type: 'partial' } | { type: 'final'; urls: string[] };

/**
 * Parses `Upload-Concat`: `partial`, or `final;` followed by space-separated upload URLs
 * (absolute or relative; order kept; a URL may repeat). Throws 400 on anything else.
 */
export function parseUploadConcat(header: string): UploadConcat {
  const value = header.trim();
  if (value === 'partial') return { type: 'partial' };
  if (value.startsWith('final;')) {
    const urls = value.slice('final;'.length).trim().split(/\s+/).filter(Boolean);
    if (urls.length === 0) throw new InvalidRequestError('Upload-Concat: final without any partial upload');
    return { type: 'final', urls };
  }
  throw new InvalidRequestError('Upload-Concat must be "partial" or "final;<url> <url> ..."');
}

/**
 * The upload id named by a partial's URL: its last path segment. Absolute URLs, relative paths
 * and query strings are accepted; validating the id itself is the caller's job. A token that is
 * no URL at all (`http://]`) is a 400, not the `TypeError` of `new URL()`.
 */
export function uploadIdFromUrl(url: string): string {
  const base = 'http://relative.invalid';
  if (!URL.canParse(url, base)) throw new InvalidRequestError(`Upload-Concat: "${url}" is not a URL`);
  const path = new URL(url, base).pathname.replace(/\/+$/, '');
  return path.slice(path.lastIndexOf('/') + 1);
}

/** Formats the `Upload-Concat` value of a final upload from its partials' URLs. */
export function formatFinalConcat(urls: readonly string[]): string {
  return `final;${urls.join(' ')}`;
}
