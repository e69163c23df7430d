import { Controller, Delete, Head, Inject, Options, Param, Patch, Post, Req, Res, type Type, UseFilters, UseGuards, UseInterceptors } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { TUS_CONFIG, type TusConfig } from './tus.config.js';
import { TUS_VERSION } from './tus.constants.js';
import { MethodNotAllowedError } from './tus.errors.js';
import { TusUploadService } from './tus-upload.service.js';
import { ChecksumInterceptor } from './checksum/checksum.interceptor.js';
import { CHECKSUM_ALGORITHMS } from './protocol/upload-checksum.js';
import { parseMethodOverride } from './protocol/headers.js';
import { header, rawRequest } from './http/raw-request.js';
import { TusExceptionFilter } from './http/tus-exception.filter.js';
import { TusResponder } from './http/tus-responder.js';
import { TusResumableGuard } from './http/tus-resumable.guard.js';
import { expiryHeader, uploadStateHeaders } from './http/upload-headers.js';
import { uploadLocation } from './http/upload-location.js';

type AdapterRequest = IncomingMessage | { raw: IncomingMessage };

/**
 * The tus routes. Each handler maps one method's headers to {@link TusUploadService} and its
 * result to the spec's response; errors are thrown and answered by {@link TusExceptionFilter}.
 * The class is mounted at the configured path by {@link createTusController}.
 */
@UseFilters(TusExceptionFilter)
@UseGuards(TusResumableGuard)
export class TusController {
  constructor(
    @Inject(TUS_CONFIG) private readonly config: TusConfig,
    private readonly uploads: TusUploadService,
    private readonly responder: TusResponder,
  ) {}

  /** Server capabilities (checklist 7); open to any caller, as a CORS preflight must be. */
  @Options()
  @Options(':id')
  options(@Res() response: unknown): void {
    const { extensions, advertisedMaxSize } = this.config;
    this.responder.sendWithoutVersion(response, 204, {
      'Tus-Version': TUS_VERSION,
      'Tus-Extension': extensions.size > 0 ? [...extensions].join(',') : undefined,
      'Tus-Max-Size': advertisedMaxSize,
      'Tus-Checksum-Algorithm': extensions.has('checksum') ? CHECKSUM_ALGORITHMS.join(',') : undefined,
    });
  }

  /** Creation (and creation-with-upload, concatenation): 201 with `Location`. */
  @Post()
  @UseInterceptors(ChecksumInterceptor)
  async create(@Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    const upload = await this.uploads.create(raw);
    this.responder.send(response, 201, {
      Location: uploadLocation(raw, upload.id, {
        relative: this.config.relativeLocation,
        trustForwardedHeaders: this.config.trustForwardedHeaders,
      }),
      'Upload-Offset': upload.offset,
      ...expiryHeader(upload),
    });
  }

  /** Checklist 4: `X-HTTP-Method-Override` on a POST to an upload, for clients that cannot send PATCH or DELETE. */
  @Post(':id')
  @UseInterceptors(ChecksumInterceptor)
  async override(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    switch (parseMethodOverride(header(rawRequest(request), 'x-http-method-override'))) {
      case 'PATCH':
        return this.patch(id, request, response);
      case 'HEAD':
        return this.head(id, response);
      case 'DELETE':
        return this.terminate(id, request, response);
      default:
        throw new MethodNotAllowedError('POST on an upload needs X-HTTP-Method-Override');
    }
  }

  /** The upload's state (checklist 8-13). */
  @Head(':id')
  async head(@Param('id') id: string, @Res() response: unknown): Promise<void> {
    const upload = await this.uploads.head(id);
    this.responder.send(response, 200, uploadStateHeaders(upload));
  }

  /** Appends a chunk (checklist 14-21): 204 with the new `Upload-Offset`. */
  @Patch(':id')
  @UseInterceptors(ChecksumInterceptor)
  async patch(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const upload = await this.uploads.patch(id, rawRequest(request));
    this.responder.send(response, 204, { 'Upload-Offset': upload.offset, ...expiryHeader(upload) });
  }

  /** Termination (checklist 34). */
  @Delete(':id')
  async terminate(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    await this.uploads.terminate(id, rawRequest(request));
    this.responder.send(response, 204, {});
  }
}

/** The controller class mounted at `path` (known when the module is defined, even for `forRootAsync`). */
export function createTusController(path: string): Type<TusController> {
  @Controller(path)
  class TusRoutesController extends TusController {}
  return TusRoutesController;
}
