import { describe, expect, it } from '@jest/globals';
import { HttpException } from '@nestjs/common';
import {
  ChecksumMismatchError,
  DigestMismatchError,
  InconsistentLengthError,
  ForbiddenUploadError,
  InsufficientStorageError,
  InvalidRequestError,
  MetadataTooLargeError,
  MethodNotAllowedError,
  OffsetMismatchError,
  PayloadTooLargeError,
  StorageUnavailableError,
  TusError,
  UnsupportedMediaTypeError,
  UnsupportedVersionError,
  UploadCompletedError,
  UploadExpiredError,
  UploadLockedError,
  UploadNotFoundError,
} from './tus.errors.js';

describe('the error catalogue', () => {
  it.each<[TusError, number, string]>([
    [new InvalidRequestError('Upload-Offset is missing'), 400, 'Upload-Offset is missing'],
    [new ForbiddenUploadError('no PATCH on a final upload'), 403, 'no PATCH on a final upload'],
    [new UploadNotFoundError(), 404, 'Upload not found'],
    [new MethodNotAllowedError('termination is disabled'), 405, 'termination is disabled'],
    [new OffsetMismatchError('offset is 5'), 409, 'offset is 5'],
    [new UploadExpiredError(), 410, 'Upload expired'],
    [new UnsupportedVersionError(), 412, 'Unsupported or missing Tus-Resumable version'],
    [new PayloadTooLargeError('too large'), 413, 'too large'],
    [new UnsupportedMediaTypeError(), 415, 'Content-Type must be application/offset+octet-stream'],
    [new UploadLockedError(), 423, 'Upload is busy with another request, retry later'],
    [new MetadataTooLargeError(4096), 431, 'Upload-Metadata exceeds the maximum of 4096 bytes'],
    [new ChecksumMismatchError(), 460, 'Checksum mismatch'],
    [new DigestMismatchError('Content-Digest'), 400, 'Content-Digest does not match the content: nothing was appended'],
    [new InconsistentLengthError('Upload-Length 5 and Content-Length 4 disagree'), 400, 'Upload-Length 5 and Content-Length 4 disagree'],
    [new UploadCompletedError(), 400, 'The upload is already complete'],
    [new UnsupportedMediaTypeError('Content-Type must be application/partial-upload'), 415, 'Content-Type must be application/partial-upload'],
    [new StorageUnavailableError('S3 unreachable: ECONNREFUSED'), 503, 'Storage unavailable (S3 unreachable: ECONNREFUSED), retry later'],
    [new InsufficientStorageError(), 507, 'Insufficient storage: no space left for this upload on the server, retry later'],
  ])('%p is an HttpException with status %p and its reason as plain text', (error, status, message) => {
    expect(error).toBeInstanceOf(HttpException);
    expect(error).toBeInstanceOf(TusError);
    expect(error).toBeInstanceOf(Error);
    expect(error.getStatus()).toBe(status);
    expect(error.status).toBe(status);
    expect(error.getResponse()).toBe(message);
    expect(error.message).toBe(message);
    expect(error.name).toBe(error.constructor.name);
  });

  it('keeps the class of each error for instanceof', () => {
    const error: unknown = new UploadNotFoundError();
    expect(error).toBeInstanceOf(UploadNotFoundError);
    expect(error).not.toBeInstanceOf(UploadExpiredError);
  });

  it('keeps the cause of a storage failure', () => {
    const cause = new Error('connect ECONNREFUSED');
    expect(new StorageUnavailableError('S3 unreachable', { cause }).cause).toBe(cause);
    expect(new StorageUnavailableError('S3 unreachable').cause).toBeUndefined();
  });
});
