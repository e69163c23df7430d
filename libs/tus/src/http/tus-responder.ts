import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
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

  /** A protocol response; `body` is a one-line plain-text reason. */
  send(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body?: string): void {
    const versioned = request.method !== 'OPTIONS';
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
