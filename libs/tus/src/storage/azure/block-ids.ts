import { randomBytes } from 'node:crypto';

/**
 * A tag drawn per request: its block ids are its own, so a request that lost a race can never
 * replace a block another request staged and recorded (Azure keeps the last upload of a block id).
 */
export function requestTag(): Buffer {
  return randomBytes(8);
}

/**
 * The id of the block at `position` (1-based) of an upload, staged by the request `tag`: 8 tag
 * bytes and the position as a 32-bit big-endian number, base64. Every id has the same length, as
 * Azure requires of the blocks of one blob (Azurite does not check it).
 */
export function blockId(tag: Buffer, position: number): string {
  const bytes = Buffer.alloc(12);
  tag.copy(bytes, 0, 0, 8);
  bytes.writeUInt32BE(position, 8);
  return bytes.toString('base64');
}
