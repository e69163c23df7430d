import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { TUS_CONFIG, type TusConfig } from '../tus.config.js';
import { TUS_VERSION } from '../tus.constants.js';
import { corsHeaders } from './cors.js';
import { header } from './raw-request.js';

/** Response headers by name; undefined values are not sent. */
export type TusHeaders = Record<string, string | number | undefined>;

/**
 * Writes every tus response, success or error, through Nest's HTTP adapter (so the same code runs
 * on Express and Fastify): `Tus-Resumable` on each but OPTIONS (checklist 1), and the CORS
 * headers when configured. Headers are set, never appended, so an app's own `enableCors()` and
 * these do not produce duplicates.
 */
@Injectable()
export class TusResponder {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(TUS_CONFIG) private readonly config: TusConfig,
  ) {}

  /** Whether the app runs on Express (known once the first response is sent). */
  private express: boolean | undefined;

  /** A protocol response; `body` is a one-line plain-text reason. */
  send(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body?: string): void {
    const versioned = request.method !== 'OPTIONS';
    if (body === undefined && this.isExpress(response)) {
      // Most answers: headers and no body, on Express, whose `res.set()` and `res.send()` do
      // nothing for them that Node's own calls do not (no body: no ETag, type or length to
      // work out). Fastify and error bodies go through the adapter.
      response.statusCode = status;
      if (versioned) response.setHeader('Tus-Resumable', TUS_VERSION);
      response.setHeader('Cache-Control', 'no-store');
      this.setRawHeaders(request, response, headers);
      response.end();
      return;
    }
    this.setHeaders(request, response, {
      'Tus-Resumable': versioned ? TUS_VERSION : undefined,
      'Cache-Control': 'no-store',
      'Content-Type': body === undefined ? undefined : 'text/plain; charset=utf-8',
      ...headers,
    });
    this.adapterHost.httpAdapter.reply(response, body, status);
  }

  /** A download: the bytes as a stream, with the caller's caching headers. */
  stream(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body: Readable): void {
    this.setHeaders(request, response, headers);
    this.adapterHost.httpAdapter.reply(response, new StreamableFile(body), status);
  }

  private isExpress(response: unknown): response is ServerResponse {
    this.express ??= this.adapterHost.httpAdapter?.getType() === 'express';
    return this.express && response instanceof ServerResponse;
  }

  private setRawHeaders(request: IncomingMessage, response: ServerResponse, headers: TusHeaders): void {
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined) response.setHeader(name, String(value));
    }
    const { cors } = this.config;
    if (cors === undefined) return;
    const preflight = request.method === 'OPTIONS' && header(request, 'access-control-request-method') !== undefined;
    const extra = corsHeaders(cors, header(request, 'origin'), preflight);
    for (const name in extra) {
      const value = extra[name];
      if (value !== undefined) response.setHeader(name, String(value));
    }
  }

  private setHeaders(request: IncomingMessage, response: unknown, headers: TusHeaders): void {
    const adapter = this.adapterHost.httpAdapter;
    const { cors } = this.config;
    const all =
      cors === undefined
        ? headers
        : { ...headers, ...corsHeaders(cors, header(request, 'origin'), request.method === 'OPTIONS' && header(request, 'access-control-request-method') !== undefined) };
    for (const name in all) {
      const value = all[name];
      if (value !== undefined) adapter.setHeader(response, name, String(value));
    }
  }
}
