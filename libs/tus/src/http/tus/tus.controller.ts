import {
  Controller,
  Delete,
  Get,
  Head,
  Inject,
  Options,
  Param,
  Patch,
  Post,
  Req,
  Res,
  type Type,
  UseFilters,
  UseGuards,
  UseInterceptors,
} from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { TusConfig } from '../../core/tus-config.js';
import { TusHttpConfig } from '../tus-http-config.js';
import { tusAppendCommand, tusCreateCommand, type TusRequestRules } from './tus-commands.js';
import { TUS_VERSION } from '../../protocol/tus.constants.js';
import { MethodNotAllowedError } from '../../errors/tus.errors.js';
import { TusUploadService } from '../../core/tus-upload.service.js';
import { ChecksumInterceptor } from './checksum.interceptor.js';
import { CHECKSUM_ALGORITHMS } from '../../protocol/upload-checksum.js';
import { parseMethodOverride } from '../../protocol/headers.js';
import { planDownload } from '../download.js';
import { header, rawRequest, rawResponse } from '../raw-request.js';
import { TusExceptionFilter } from '../tus-exception.filter.js';
import { TusResponder } from '../tus-responder.js';
import { TusResumableGuard } from './tus-resumable.guard.js';
import { TusRequestObserver } from '../tus-request.observer.js';
import { TusRouteGuards } from '../tus-route.guards.js';
import { FastifyTusRoute } from '../fastify-routes.js';
import { concatHeader, expiryHeader, uploadStateHeaders } from './upload-headers.js';
import { uploadLocation } from '../upload-location.js';
import { IetfFrontDoor } from '../ietf/ietf-front-door.js';

type AdapterRequest = IncomingMessage | { raw: IncomingMessage };

/**
 * The routes of the upload path. Each handler maps one method's headers to {@link TusUploadService}
 * and its result to the spec's response; errors are thrown and answered by {@link TusExceptionFilter}.
 * A request of the IETF draft (a known `Upload-Draft-Interop-Version`) is handed to its own front
 * door, {@link IetfFrontDoor}, first thing: the same routes, guards and filter serve both protocols.
 * The class is mounted at the configured path by {@link createTusController}.
 */
@UseFilters(TusExceptionFilter)
@UseGuards(TusResumableGuard, TusRouteGuards)
export class TusController {
  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    @Inject(TusHttpConfig) private readonly http: TusHttpConfig,
    private readonly uploads: TusUploadService,
    private readonly responder: TusResponder,
    private readonly ietf: IetfFrontDoor,
    private readonly observer: TusRequestObserver,
  ) {
    this.rules = { ...http, extensions: config.extensions };
  }

  private readonly rules: TusRequestRules;

  /** Server capabilities (checklist 7), and CORS preflights; open to any caller. */
  @Options(['', ':id'])
  @FastifyTusRoute()
  options(@Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), undefined, () => this.answerOptions(raw, response));
  }

  private async answerOptions(raw: IncomingMessage, response: unknown): Promise<void> {
    const draft = this.ietf.profileOf(raw);
    if (draft !== null) return this.ietf.options(raw, response, draft);
    // Only the draft served: a preflight (no protocol named) gets its CORS answer, nothing of tus.
    if (!this.http.protocols.has('tus')) return this.responder.reply(raw, response, 204, {});
    const { extensions, advertisedMaxSize } = this.config;
    this.responder.send(raw, response, 204, {
      'Tus-Version': TUS_VERSION,
      'Tus-Extension': extensions.size > 0 ? [...extensions].join(',') : undefined,
      'Tus-Max-Size': advertisedMaxSize,
      'Tus-Checksum-Algorithm': extensions.has('checksum') || extensions.has('checksum-trailer') ? CHECKSUM_ALGORITHMS.join(',') : undefined,
    });
  }

  /** Creation (and creation-with-upload, concatenation): 201 with `Location`, and `Upload-Concat` echoed. */
  @Post()
  @FastifyTusRoute()
  @UseInterceptors(ChecksumInterceptor)
  create(@Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), undefined, () => this.createUpload(raw, response));
  }

  private async createUpload(raw: IncomingMessage, response: unknown): Promise<void> {
    const draft = this.ietf.profileOf(raw);
    if (draft !== null) return this.ietf.create(raw, response, draft);
    const upload = await this.uploads.create(tusCreateCommand(raw, this.rules));
    const unfinishedFinal = upload.concat?.type === 'final' && upload.completedAt === null;
    this.responder.send(raw, response, 201, {
      Location: uploadLocation(raw, upload.id, {
        relative: this.http.relativeLocation,
        trustForwardedHeaders: this.http.trustForwardedHeaders,
      }),
      'Upload-Offset': unfinishedFinal ? undefined : upload.offset,
      ...concatHeader(upload),
      ...expiryHeader(upload),
    });
  }

  /** Checklist 4: `X-HTTP-Method-Override` on a POST to an upload, for clients that cannot send PATCH or DELETE. */
  @Post(':id')
  @FastifyTusRoute()
  @UseInterceptors(ChecksumInterceptor)
  override(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), id, async () => this.overridden(id, raw, response));
  }

  private overridden(id: string, raw: IncomingMessage, response: unknown): Promise<void> {
    // The draft has no method override: a POST to an upload is not one of its requests.
    if (this.ietf.profileOf(raw) !== null) throw new MethodNotAllowedError('POST is not allowed on an upload');
    switch (parseMethodOverride(header(raw, 'x-http-method-override'))) {
      case 'PATCH':
        return this.append(id, raw, response);
      case 'HEAD':
        return this.state(id, raw, response);
      case 'DELETE':
        return this.remove(id, raw, response);
      default:
        throw new MethodNotAllowedError('POST on an upload needs X-HTTP-Method-Override');
    }
  }

  /** The upload's state (checklist 8-13). */
  @Head(':id')
  @FastifyTusRoute()
  head(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), id, () => this.state(id, raw, response));
  }

  private async state(id: string, raw: IncomingMessage, response: unknown): Promise<void> {
    const draft = this.ietf.profileOf(raw);
    if (draft !== null) return this.ietf.head(id, raw, response, draft);
    const upload = await this.uploads.head(id, raw);
    this.responder.send(raw, response, 200, uploadStateHeaders(upload));
  }

  /** Appends a chunk (checklist 14-21): 204 with the new `Upload-Offset`. */
  @Patch(':id')
  @FastifyTusRoute()
  @UseInterceptors(ChecksumInterceptor)
  patch(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), id, async () => {
      const draft = this.ietf.profileOf(raw);
      if (draft !== null) return this.ietf.append(id, raw, response, draft);
      return this.append(id, raw, response);
    });
  }

  private async append(id: string, raw: IncomingMessage, response: unknown): Promise<void> {
    const upload = await this.uploads.append(tusAppendCommand(id, raw, this.rules));
    this.responder.send(raw, response, 204, { 'Upload-Offset': upload.offset, ...expiryHeader(upload) });
  }

  /** Termination (checklist 34). */
  @Delete(':id')
  @FastifyTusRoute()
  terminate(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), id, () => this.remove(id, raw, response));
  }

  private async remove(id: string, raw: IncomingMessage, response: unknown): Promise<void> {
    const draft = this.ietf.profileOf(raw);
    if (draft !== null) return this.ietf.terminate(id, raw, response, draft);
    await this.uploads.terminate(id, raw);
    this.responder.send(raw, response, 204, {});
  }

  /** Download of a completed upload, with `Range` and conditional requests. */
  @Get(':id')
  @FastifyTusRoute()
  download(@Param('id') id: string, @Req() request: AdapterRequest, @Res() response: unknown): Promise<void> {
    const raw = rawRequest(request);
    return this.observer.run(raw, rawResponse(response), id, () => this.serve(id, raw, response));
  }

  private async serve(id: string, raw: IncomingMessage, response: unknown): Promise<void> {
    const upload = await this.uploads.download(id, raw);
    const plan = planDownload(upload, raw);
    if (!('range' in plan)) {
      // A download is no protocol's request: a draft client's 304 or 416 carries no tus field.
      if (this.ietf.profileOf(raw) !== null) this.responder.reply(raw, response, plan.status, plan.headers);
      else this.responder.send(raw, response, plan.status, plan.headers);
      return;
    }
    const stream = await this.uploads.read(upload, plan.range ?? {});
    this.responder.stream(raw, response, plan.status, plan.headers, stream);
  }
}

/** The controller class mounted at `path` (known when the module is defined, even for `forRootAsync`). */
export function createTusController(path: string): Type<TusController> {
  @Controller(path)
  class TusRoutesController extends TusController {}
  return TusRoutesController;
}
