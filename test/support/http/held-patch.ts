import { request as httpRequest, type ClientRequest } from 'node:http';
import { patchHeaders } from './requests.js';

/** A PATCH whose client sent part of its body and now waits, connection open. */
export interface HeldPatch {
  request: ClientRequest;
  /** Resolves once the first bytes left this process (handed to the socket). */
  sent: Promise<void>;
  /** The status the server answered, or null when the connection closed without an answer. */
  answer: Promise<number | null>;
  /** Sends more of the body. */
  write(bytes: Buffer): Promise<void>;
}

/**
 * Starts a PATCH at `offset` whose `Content-Length` promises `promised` bytes, sends `sent` of them
 * and holds the rest back: a client stalled mid-chunk (or one the server is about to lose).
 */
export function startHeldPatch(url: string, offset: number, sent: Buffer, promised: number, headers: Record<string, string> = {}): HeldPatch {
  const request = httpRequest(url, {
    method: 'PATCH',
    agent: false,
    headers: { ...patchHeaders(offset), ...headers, 'Content-Length': promised },
  });
  const answer = new Promise<number | null>((resolve) => {
    request.on('response', (response) => {
      response.resume();
      resolve(response.statusCode ?? null);
    });
    request.on('error', () => resolve(null));
    request.on('close', () => resolve(null));
  });
  const write = (bytes: Buffer) => new Promise<void>((resolve) => (request.write(bytes) ? resolve() : request.once('drain', () => resolve())));
  const flushed = new Promise<void>((resolve) => request.write(sent, () => resolve()));
  return { request, sent: flushed, answer, write };
}
