import { Inject, Injectable, StreamableFile } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { type IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { TusHttpConfig } from './tus-http-config.js';
import { TUS_VERSION } from '../protocol/tus.constants.js';
import { IETF_REQUEST_HEADERS } from '../protocol/ietf/ietf-fields.js';
import { type CorsFieldLists, corsHeaders, TUS_CORS_FIELDS } from './cors.js';
import { header } from './raw-request.js';
import { TusRequestObserver } from './tus-request.observer.js';
import type { TusHeaders } from './response-headers.js';

/** A response body: its media type and its text. */
export interface ResponseBody {
  readonly type: string;
  readonly text: string;
}

/**
 * Writes every response of the module's routes, success or error, through Nest's HTTP adapter (so
 * the same code runs on Express and Fastify), with `Cache-Control: no-store` and the CORS headers
 * when configured. {@link send} is a tus 1.0 response: `Tus-Resumable` on each but OPTIONS
 * (checklist 1). {@link reply} adds no protocol's header: the IETF draft's front door uses it.
 * Headers are set, never appended, so an app's own `enableCors()` and these do not produce duplicates.
 */
@Injectable()
export class TusResponder {
  /** What a preflight for a request of the draft allows: the request fields of both protocols. */
  private readonly bothRequestFields: readonly string[] = [...new Set([...TUS_CORS_FIELDS.allowHeaders, ...IETF_REQUEST_HEADERS])];

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(TusHttpConfig) private readonly config: TusHttpConfig,
    private readonly observer: TusRequestObserver,
  ) {}

  /** Whether the app runs on Express (known once the first response is sent). */
  private express: boolean | undefined;

  /** A tus 1.0 response; `body` is a one-line plain-text reason. */
  send(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body?: string): void {
    const all: TusHeaders = { 'Tus-Resumable': request.method === 'OPTIONS' ? undefined : TUS_VERSION, ...headers };
    this.reply(request, response, status, all, body === undefined ? undefined : { type: 'text/plain; charset=utf-8', text: body });
  }

  /**
   * A response with exactly `headers` besides `Cache-Control: no-store` and CORS (exposing the
   * response fields of `fields`, tus 1.0's by default, and allowing a preflight the request fields
   * of every protocol served).
   */
  reply(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body?: ResponseBody, fields?: CorsFieldLists): void {
    this.observer.answered(request, status, headers['Upload-Offset']);
    const all: TusHeaders = { 'Cache-Control': 'no-store', 'Content-Type': body?.type, ...headers };
    const cors = { expose: (fields ?? TUS_CORS_FIELDS).expose, allowHeaders: this.preflightAllows(request) };
    if (body === undefined && this.isExpress(response)) {
      // Most answers: headers and no body, on Express, whose `res.set()` and `res.send()` do
      // nothing for them that Node's own calls do not (no body: no ETag, type or length to
      // work out). Fastify and bodies go through the adapter.
      response.statusCode = status;
      this.writeHeaders(request, all, cors, (name, value) => response.setHeader(name, value));
      response.end();
      return;
    }
    this.writeHeaders(request, all, cors, (name, value) => this.adapterHost.httpAdapter.setHeader(response, name, value));
    this.adapterHost.httpAdapter.reply(response, body?.text, status);
  }

  /** A download: the bytes as a stream, with the caller's caching headers. */
  stream(request: IncomingMessage, response: unknown, status: number, headers: TusHeaders, body: Readable): void {
    this.observer.answered(request, status, undefined);
    this.writeHeaders(request, headers, TUS_CORS_FIELDS, (name, value) => this.adapterHost.httpAdapter.setHeader(response, name, value));
    this.adapterHost.httpAdapter.reply(response, new StreamableFile(body), status);
  }

  /**
   * The request fields a preflight allows: tus 1.0's, and the draft's too when the draft is served
   * and the preflight announces a draft request (its `Access-Control-Request-Headers` names
   * `Upload-Draft-Interop-Version`, which every draft request carries). A preflight names no
   * protocol otherwise; a tus client's preflight gets exactly tus's list.
   */
  private preflightAllows(request: IncomingMessage): readonly string[] {
    if (request.method !== 'OPTIONS' || !this.config.protocols.has('ietf-draft')) return TUS_CORS_FIELDS.allowHeaders;
    const asked = header(request, 'access-control-request-headers')?.toLowerCase() ?? '';
    return /(^|[\s,])upload-draft-interop-version([\s,]|$)/.test(asked) ? this.bothRequestFields : TUS_CORS_FIELDS.allowHeaders;
  }

  private isExpress(response: unknown): response is ServerResponse {
    this.express ??= this.adapterHost.httpAdapter?.getType() === 'express';
    return this.express && response instanceof ServerResponse;
  }

  /** Sets `headers` and, when configured, the CORS headers for this request's origin. */
  private writeHeaders(request: IncomingMessage, headers: TusHeaders, fields: CorsFieldLists, set: (name: string, value: string) => void): void {
    const { cors } = this.config;
    const preflight = request.method === 'OPTIONS' && header(request, 'access-control-request-method') !== undefined;
    const all = cors === undefined ? headers : { ...headers, ...corsHeaders(cors, header(request, 'origin'), preflight, fields) };
    for (const name in all) {
      const value = all[name];
      if (value !== undefined) set(name, String(value));
    }
  }
}
