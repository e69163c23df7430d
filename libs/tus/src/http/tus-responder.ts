import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { TusHttpConfig } from './tus-http-config.js';
import { TUS_VERSION } from '../protocol/tus.constants.js';
import { corsHeaders } from './cors.js';
import { header } from './raw-request.js';
import { TusRequestObserver } from './tus-request.observer.js';
import type { TusHeaders } from './response-headers.js';



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
    @Inject(TusHttpConfig) private readonly config: TusHttpConfig,
    private readonly observer: TusRequestObserver,
  ) {}

  /** Whether the app runs on Express (known once the first response is sent). */
  private express: boolean | undefined;

  /** A protocol response; `body` is a one-line plain-text reason. */
  send(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body?: string): void {
    this.observer.answered(request, status, headers['Upload-Offset']);
    const all: TusHeaders = {
      'Tus-Resumable': request.method === 'OPTIONS' ? undefined : TUS_VERSION,
      'Cache-Control': 'no-store',
      'Content-Type': body === undefined ? undefined : 'text/plain; charset=utf-8',
      ...headers,
    };
    if (body === undefined && this.isExpress(response)) {
      // Most answers: headers and no body, on Express, whose `res.set()` and `res.send()` do
      // nothing for them that Node's own calls do not (no body: no ETag, type or length to
      // work out). Fastify and error bodies go through the adapter.
      response.statusCode = status;
      this.writeHeaders(request, all, (name, value) => response.setHeader(name, value));
      response.end();
      return;
    }
    this.writeHeaders(request, all, (name, value) => this.adapterHost.httpAdapter.setHeader(response, name, value));
    this.adapterHost.httpAdapter.reply(response, body, status);
  }

  /** A download: the bytes as a stream, with the caller's caching headers. */
  stream(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body: Readable): void {
    this.observer.answered(request, status, undefined);
    this.writeHeaders(request, headers, (name, value) => this.adapterHost.httpAdapter.setHeader(response, name, value));
    this.adapterHost.httpAdapter.reply(response, new StreamableFile(body), status);
  }

  private isExpress(response: unknown): response is ServerResponse {
    this.express ??= this.adapterHost.httpAdapter?.getType() === 'express';
    return this.express && response instanceof ServerResponse;
  }

  /** Sets `headers` and, when configured, the CORS headers for this request's origin. */
  private writeHeaders(request: IncomingMessage, headers: TusHeaders, set: (name: string, value: string) => void): void {
    const { cors } = this.config;
    const preflight = request.method === 'OPTIONS' && header(request, 'access-control-request-method') !== undefined;
    const all = cors === undefined ? headers : { ...headers, ...corsHeaders(cors, header(request, 'origin'), preflight) };
    for (const name in all) {
      const value = all[name];
      if (value !== undefined) set(name, String(value));
    }
  }
}
