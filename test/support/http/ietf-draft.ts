import { expect } from '@jest/globals';
import type { IncomingHttpHeaders } from 'node:http';

/** The interop versions the module serves, oldest first. */
export const INTEROP = [3, 4, 5, 6, 7, 8] as const;
export type Interop = (typeof INTEROP)[number];

/** The fields of a draft request of `version`: the interop version, and the completeness field in its spelling. */
export function draft(version: Interop, complete?: boolean): Record<string, string> {
  const headers: Record<string, string> = { 'Upload-Draft-Interop-Version': String(version) };
  if (complete === undefined) return headers;
  if (version === 3) headers['Upload-Incomplete'] = complete ? '?0' : '?1';
  else headers['Upload-Complete'] = complete ? '?1' : '?0';
  return headers;
}

/** An append's fields of `version`: offset, completeness, and `application/partial-upload` where the version requires it. */
export function appendFields(version: Interop, offset: number, complete: boolean): Record<string, string> {
  return {
    ...draft(version, complete),
    'Upload-Offset': String(offset),
    ...(version >= 6 ? { 'Content-Type': 'application/partial-upload' } : {}),
  };
}

/** Whether a response of `version` says the upload is complete (`Upload-Complete: ?1`, `Upload-Incomplete: ?0` for 3). */
export function saysComplete(version: Interop, headers: IncomingHttpHeaders): boolean | undefined {
  const value = version === 3 ? headers['upload-incomplete'] : headers['upload-complete'];
  if (value === undefined) return undefined;
  return version === 3 ? value === '?0' : value === '?1';
}

/** tus 1.0's response fields, which no draft response carries. */
export const TUS_FIELDS = ['tus-resumable', 'tus-version', 'tus-extension', 'tus-max-size', 'tus-checksum-algorithm', 'upload-expires', 'upload-metadata', 'upload-defer-length', 'upload-concat'];

/** The draft's response fields, which no tus response carries. */
export const DRAFT_FIELDS = ['upload-draft-interop-version', 'upload-complete', 'upload-incomplete', 'upload-limit', 'accept-patch'];

export function expectNoTusFields(headers: IncomingHttpHeaders): void {
  expect(Object.keys(headers).filter((name) => TUS_FIELDS.includes(name))).toEqual([]);
}

export function expectNoDraftFields(headers: IncomingHttpHeaders): void {
  expect(Object.keys(headers).filter((name) => DRAFT_FIELDS.includes(name))).toEqual([]);
}

/** The key of `Upload-Limit` for the resource's lifetime in `version`. */
export function lifetimeKey(version: Interop): 'expires' | 'max-age' | null {
  return version < 6 ? null : version === 6 ? 'expires' : 'max-age';
}
