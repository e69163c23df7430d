import type { IncomingMessage, ServerResponse } from 'node:http';

/** The Node request under the adapter's: Fastify wraps it in `raw`, Express extends it. */
export function rawRequest(request: IncomingMessage | { raw: IncomingMessage }): IncomingMessage {
  return 'raw' in request && request.raw !== undefined ? request.raw : (request as IncomingMessage);
}

/** First value of a request header (Node joins repeated headers or gives arrays for a few). */
export function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** The Node response under the adapter's: Fastify's reply wraps it in `raw`, Express extends it. */
export function rawResponse(response: unknown): ServerResponse {
  const reply = response as ServerResponse | { raw: ServerResponse };
  return 'raw' in reply && reply.raw !== undefined ? reply.raw : (reply as ServerResponse);
}
