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
  /** The `Location`s of the interim responses received so far (the IETF draft's 104). */
  interim: string[];
}

/**
 * Starts a PATCH at `offset` whose `Content-Length` promises `promised` bytes, sends `sent` of them
 * and holds the rest back: a client stalled mid-chunk (or one the server is about to lose).
 */
export function startHeldPatch(url: string, offset: number, sent: Buffer, promised: number, headers: Record<string, string> = {}): HeldPatch {
  return startHeldRequest('PATCH', url, { ...patchHeaders(offset), ...headers }, sent, promised);
}

/** {@link startHeldPatch} for any request and fields (an IETF draft creation or append). */
export function startHeldRequest(method: string, url: string, headers: Record<string, string>, sent: Buffer, promised: number): HeldPatch {
  const request = httpRequest(url, { method, agent: false, headers: { ...headers, 'Content-Length': promised } });
  const interim: string[] = [];
  request.on('information', (info) => interim.push(String(info.headers.location)));
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
  return { request, sent: flushed, answer, write, interim };
}
