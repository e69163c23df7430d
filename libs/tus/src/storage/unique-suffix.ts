import { randomBytes } from 'node:crypto';

/**
 * Drawn once per process. Also the name of the process's lock owner file (see LockOwnerFile): crash
 * recovery tells a live writer's `.info.<suffix>.tmp` from a dead one's by this prefix, so the two
 * must stay one token.
 */
export const PROCESS_TOKEN = randomBytes(6).toString('hex');
let sequence = 0;

/**
 * A name part no other process sharing the folder or bucket (on any host) and no other call in this
 * one produces: a random token drawn once per process and a counter, without a random draw per call.
 */
export function uniqueSuffix(): string {
  sequence = (sequence + 1) % Number.MAX_SAFE_INTEGER;
  return `${PROCESS_TOKEN}${sequence.toString(36)}`;
}
