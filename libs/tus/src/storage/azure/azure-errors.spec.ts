import { describe, expect, it } from '@jest/globals';
import { InvalidRequestError, StorageUnavailableError } from '../../errors/tus.errors.js';
import { azureStorageErrorOf, isConditionFailed, isLeaseConflict, isNotFound } from './azure-errors.js';

const rest = (statusCode: number | undefined, code: string, message = code) => Object.assign(new Error(message), { name: 'RestError', statusCode, code });

describe('Azure failures', () => {
  it('reads a lost condition: 412, and 409 BlobAlreadyExists for If-None-Match: *', () => {
    expect(isConditionFailed(rest(412, 'ConditionNotMet'))).toBe(true);
    expect(isConditionFailed(rest(409, 'BlobAlreadyExists'))).toBe(true);
    expect(isConditionFailed(rest(409, 'LeaseAlreadyPresent'))).toBe(false);
    expect(isNotFound(rest(404, 'BlobNotFound'))).toBe(true);
  });

  it('reads lease answers: another holder (409), or ours gone (412 Lease...)', () => {
    expect(isLeaseConflict(rest(409, 'LeaseAlreadyPresent'))).toBe(true);
    expect(isLeaseConflict(rest(409, 'LeaseIsBrokenAndCannotBeRenewed'))).toBe(true);
    expect(isLeaseConflict(rest(412, 'LeaseIdMismatchWithLeaseOperation'))).toBe(true);
    expect(isLeaseConflict(rest(412, 'ConditionNotMet'))).toBe(false);
  });

  it('makes no answer, or "not now", a 503 that names the reason', () => {
    for (const failure of [rest(undefined, 'ECONNREFUSED'), rest(undefined, 'ECONNRESET'), rest(503, 'ServerBusy'), rest(500, 'OperationTimedOut')]) {
      const mapped = azureStorageErrorOf(failure);
      expect(mapped).toBeInstanceOf(StorageUnavailableError);
      expect((mapped as Error).message).toMatch(/ECONNREFUSED|ECONNRESET|503 ServerBusy|500 OperationTimedOut/);
    }
    expect(azureStorageErrorOf(Object.assign(new Error('socket hang up'), { name: 'RestError' }))).toBeInstanceOf(StorageUnavailableError);
  });

  it('leaves what no retry mends as it is: a refused credential, a missing container, 501, the module’s own errors', () => {
    for (const failure of [rest(403, 'AuthenticationFailed'), rest(404, 'ContainerNotFound'), rest(501, 'NotImplemented'), new InvalidRequestError('x')]) {
      expect(azureStorageErrorOf(failure)).toBe(failure);
    }
  });
});
