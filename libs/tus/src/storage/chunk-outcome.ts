import { TusError } from '../errors/tus.errors.js';
import type { ChunkSource } from './tus-storage-backend.interface.js';

/**
 * What a backend does with the bytes of a request whose body failed: a protocol error (too many
 * bytes) rejects the chunk as a whole; a body cut off in transit keeps what arrived, unless the
 * chunk can only be trusted whole. One rule for every backend. (A throw from `verify()`, after
 * the body ended, always discards the chunk.)
 */
export function keepsBytesAfter(error: unknown, chunk: ChunkSource): boolean {
  return !(error instanceof TusError) && chunk.keepOnInterrupt;
}
