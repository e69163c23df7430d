import { StorageUnavailableError, TusError } from '../../errors/tus.errors.js';

/** What `@azure/storage-blob` throws: a `RestError` with the HTTP status and Azure's error code. */
interface AzureFailure {
  name?: string;
  message?: string;
  statusCode?: number;
  code?: string;
}

const failureOf = (error: unknown): AzureFailure => (typeof error === 'object' && error !== null ? (error as AzureFailure) : {});

/** HTTP status of a failed Azure call, when it got an answer. */
export function azureStatus(error: unknown): number | undefined {
  return failureOf(error).statusCode;
}

/** Azure's error code (`BlobNotFound`, `ConditionNotMet`, ...) or the system's (`ECONNREFUSED`). */
export function azureCode(error: unknown): string | undefined {
  return failureOf(error).code;
}

export function isNotFound(error: unknown): boolean {
  return azureStatus(error) === 404;
}

/**
 * A conditional write lost: 412 for `If-Match`, and for `If-None-Match: *` on an existing blob
 * Azure's 409 `BlobAlreadyExists` (Azurite answers the same).
 */
export function isConditionFailed(error: unknown): boolean {
  const status = azureStatus(error);
  return status === 412 || (status === 409 && azureCode(error) === 'BlobAlreadyExists');
}

/** Lease answers: another holder's lease (409), or ours lost (broken, expired and taken, changed). */
export function isLeaseConflict(error: unknown): boolean {
  const status = azureStatus(error);
  return status === 409 || (status === 412 && /^Lease/.test(azureCode(error) ?? ''));
}

/** System error codes of a connection that failed or went silent: the service may answer a retry. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ENOTFOUND', 'REQUEST_SEND_ERROR']);
/** Answers of a service that is there but cannot serve now (ServerBusy, OperationTimedOut, InternalError). */
const UNAVAILABLE_STATUSES = new Set([500, 502, 503, 504]);

/**
 * What an Azure call's failure means to a client, by the S3 backend's rule: no answer (refused,
 * reset, timed out) or "not now" (5xx but 501) is the storage being unavailable, 503, which tus
 * clients retry; everything else (bad credentials, a missing container, a bug) stays what it is.
 */
export function azureStorageErrorOf(error: unknown): unknown {
  if (error instanceof TusError) return error;
  const failure = failureOf(error);
  if (failure.statusCode !== undefined) {
    if (!UNAVAILABLE_STATUSES.has(failure.statusCode)) return error;
    return new StorageUnavailableError(`Azure answered ${failure.statusCode} ${failure.code ?? ''}`.trim(), { cause: error });
  }
  const code = failure.code ?? /\b(E[A-Z]+)\b/.exec(failure.message ?? '')?.[1];
  if (code !== undefined && NETWORK_CODES.has(code)) return new StorageUnavailableError(`Azure unreachable: ${code}`, { cause: error });
  if (failure.name === 'AbortError' || /socket hang up|timed? ?out/i.test(failure.message ?? '')) {
    return new StorageUnavailableError(`Azure unreachable: ${failure.message}`, { cause: error });
  }
  return error;
}
