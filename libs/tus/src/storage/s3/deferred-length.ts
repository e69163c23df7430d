import { PayloadTooLargeError } from '../../errors/tus.errors.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { partSizeFor } from './part-size.js';
import type { S3UploadState } from './s3-upload-state.js';

/**
 * The state with the part size grown for a length declared now (deferred length): the bytes still
 * to come must fit the part numbers left. 413 if they cannot.
 */
export function resizedForLength(s3: S3UploadState, upload: UploadInfo, length: number | null, maxParts: number): S3UploadState {
  if (upload.length !== null || length === null) return s3;
  const inParts = s3.parts.reduce((sum, part) => sum + part.size, 0);
  const partSize = partSizeFor(length - inParts, maxParts - s3.parts.length, s3.partSize);
  if (partSize === null) throw new PayloadTooLargeError(`Upload-Length exceeds what ${maxParts} parts can hold`);
  return { ...s3, partSize };
}
