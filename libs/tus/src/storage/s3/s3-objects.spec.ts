import { describe, expect, it } from '@jest/globals';
import { OffsetMismatchError, StorageUnavailableError } from '../../errors/tus.errors.js';
import { storageErrorOf } from './s3-objects.js';

const sdkError = (name: string, fields: Record<string, unknown>) => Object.assign(new Error(name), { name, ...fields });

describe('storageErrorOf', () => {
  it.each([
    [sdkError('Error', { code: 'ECONNREFUSED', $metadata: { attempts: 3 } }), 'Storage unavailable (S3 unreachable: ECONNREFUSED), retry later'],
    [sdkError('Error', { code: 'ECONNRESET', $metadata: {} }), 'Storage unavailable (S3 unreachable: ECONNRESET), retry later'],
    [sdkError('TimeoutError', { $metadata: {} }), 'Storage unavailable (S3 unreachable: TimeoutError), retry later'],
    // The SDK re-wraps an error it does not recognise as one: the code is still in the message.
    [new Error('AWS SDK error wrapper for Error: connect ECONNREFUSED 127.0.0.1:7480'), 'Storage unavailable (S3 unreachable: ECONNREFUSED), retry later'],
    [new Error('AWS SDK error wrapper for TimeoutError: socket hang up'), 'Storage unavailable (S3 unreachable: TimeoutError), retry later'],
    [sdkError('Error', { message: 'socket hang up', $metadata: {} }), 'Storage unavailable (S3 unreachable: socket hang up), retry later'],
    [sdkError('InternalError', { $metadata: { httpStatusCode: 500 } }), 'Storage unavailable (S3 answered 500 InternalError), retry later'],
    [sdkError('SlowDown', { $metadata: { httpStatusCode: 503 } }), 'Storage unavailable (S3 answered 503 SlowDown), retry later'],
  ])('no answer, or a 5xx, is a 503: %p', (error, message) => {
    const mapped = storageErrorOf(error);
    expect(mapped).toBeInstanceOf(StorageUnavailableError);
    expect((mapped as StorageUnavailableError).status).toBe(503);
    expect((mapped as Error).message).toBe(message);
    expect((mapped as Error).cause).toBe(error);
  });

  it.each([
    [sdkError('NoSuchKey', { $metadata: { httpStatusCode: 404 } })],
    [sdkError('PreconditionFailed', { $metadata: { httpStatusCode: 412 } })],
    [sdkError('AccessDenied', { $metadata: { httpStatusCode: 403 } })],
    [new OffsetMismatchError('moved')],
    [sdkError('NotImplemented', { $metadata: { httpStatusCode: 501 } })],
    [sdkError('CredentialsProviderError', {})],
    [new Error('Region is missing')],
    [new TypeError('a bug')],
  ])('an answer below 500, a permanent failure, a protocol error or a bug is left as it is: %p', (error) => {
    expect(storageErrorOf(error)).toBe(error);
  });
});
