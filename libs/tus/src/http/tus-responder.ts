import { Injectable } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { TUS_VERSION } from '../tus.constants.js';

/** Response headers by name; undefined values are not sent. */
export type TusHeaders = Record<string, string | number | undefined>;

/**
 * Writes every tus response, success or error, through Nest's HTTP adapter (so the same code runs
 * on Express and Fastify), with `Tus-Resumable` on each (checklist 1) and no caching.
 */
@Injectable()
export class TusResponder {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  send(response: unknown, status: number, headers: TusHeaders, body?: string): void {
    this.adapterHost.httpAdapter.setHeader(response, 'Tus-Resumable', TUS_VERSION);
    this.sendWithout(response, status, headers, body);
  }

  /** For OPTIONS, the one response that carries no `Tus-Resumable`. */
  sendWithoutVersion(response: unknown, status: number, headers: TusHeaders): void {
    this.sendWithout(response, status, headers);
  }

  private sendWithout(response: unknown, status: number, headers: TusHeaders, body?: string): void {
    const adapter = this.adapterHost.httpAdapter;
    adapter.setHeader(response, 'Cache-Control', 'no-store');
    for (const name in headers) {
      const value = headers[name];
      if (value !== undefined) adapter.setHeader(response, name, String(value));
    }
    if (body !== undefined) adapter.setHeader(response, 'Content-Type', 'text/plain; charset=utf-8');
    adapter.reply(response, body, status);
  }
}
