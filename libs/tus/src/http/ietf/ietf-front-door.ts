import { Inject, Injectable } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { TusConfig } from '../../core/tus-config.js';
import { TusStorageService } from '../../core/tus-storage.service.js';
import { TusUploadService } from '../../core/tus-upload.service.js';
import { TusClock } from '../../core/tus.clock.js';
import type { UploadBody } from '../../core/upload-body.js';
import type { AppendCommand } from '../../core/upload-commands.js';
import {
  DigestMismatchError,
  InconsistentLengthError,
  InvalidRequestError,
  OffsetMismatchError,
  PayloadTooLargeError,
  UploadCompletedError,
} from '../../errors/tus.errors.js';
import { type IetfProfile, PARTIAL_UPLOAD_MEDIA_TYPE } from '../../protocol/ietf/ietf-profile.js';
import { creationInterim, formatInterimHead } from '../../protocol/ietf/interim-response.js';
import { formatUploadLimit, type UploadLimits } from '../../protocol/ietf/upload-limit.js';
import { formatUploadComplete } from '../../protocol/ietf/upload-state-fields.js';
import type { UploadInfo } from '../../protocol/upload-info.js';
import { rawResponse } from '../raw-request.js';
import type { TusHeaders } from '../response-headers.js';
import { TusHttpConfig } from '../tus-http-config.js';
import { TusResponder } from '../tus-responder.js';
import { uploadLocation } from '../upload-location.js';
import { assertNoStateFields, draftAppend, draftCreation, type IetfRequestRules } from './ietf-commands.js';
import { IETF_CORS_FIELDS, recordErrorFacts } from './ietf-errors.js';
import { draftProfileOf } from './ietf-request.js';
import { writeInterim } from './interim-writer.js';

/**
 * The IETF draft's front door ("Resumable Uploads for HTTP", interop versions 3 to 8): the tus
 * routes hand it the requests that name a known interop version. It reads them into the same core
 * commands as tus 1.0 and calls the same {@link TusUploadService}, so backends, locking, takeover,
 * events and authorization are those of tus; it answers in the draft's fields only. Errors are
 * thrown, after recording what their answer needs (`recordErrorFacts`), and answered by the
 * module's exception filter (`draftErrorAnswer`).
 */
@Injectable()
export class IetfFrontDoor {
  private readonly rules: IetfRequestRules;

  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    @Inject(TusHttpConfig) private readonly http: TusHttpConfig,
    @Inject(TusClock) private readonly clock: TusClock,
    private readonly uploads: TusUploadService,
    private readonly storage: TusStorageService,
    private readonly responder: TusResponder,
  ) {
    this.rules = http;
  }

  /** The request's profile when it is a request of the draft this server serves, else null. */
  profileOf(request: IncomingMessage): IetfProfile | null {
    return draftProfileOf(request, this.http.protocols);
  }

  /** Server capabilities: `Upload-Limit` (interop 6 on, `min-size=0` without limits) and `Accept-Patch` (interop 8). */
  async options(request: IncomingMessage, response: unknown, profile: IetfProfile): Promise<void> {
    const limits = profile.optionsUploadLimit ? await this.limits(request, null) : null;
    this.send(request, response, profile, 204, {
      'Upload-Limit': limits === null ? undefined : (formatUploadLimit(profile, limits) ?? undefined),
      'Accept-Patch': profile.optionsAcceptPatch ? PARTIAL_UPLOAD_MEDIA_TYPE : undefined,
    });
  }

  /**
   * Upload creation. With content, the upload is created first, then its content appended at
   * offset 0 under its lock, announced by the 104 (its `Location`, and `Upload-Limit` from interop
   * 6) as the core opens the content, before a byte of it is read: a client cut off before the
   * final response resumes from the 104's URL. Without a 104 to send (turned off, HTTP/1.0) the content goes with
   * the creation command, as tus's creation-with-upload does: an upload whose content fails is
   * then removed, since its client never learned its URL.
   */
  async create(request: IncomingMessage, response: unknown, profile: IetfProfile): Promise<void> {
    const creation = draftCreation(request, profile, this.rules);
    const announce = this.http.interimResponses && request.httpVersionMajor === 1 && request.httpVersionMinor >= 1;
    const location = (upload: UploadInfo) =>
      uploadLocation(request, upload.id, { relative: this.http.relativeLocation, trustForwardedHeaders: this.http.trustForwardedHeaders });
    let upload: UploadInfo;
    let interim: (() => void) | undefined;
    try {
      if (creation.body === null || announce) {
        upload = await this.uploads.create(creation.command);
        if (announce) interim = await this.interim(request, response, profile, upload, location(upload));
      } else {
        upload = await this.uploads.create({ ...creation.command, body: creation.body });
      }
    } catch (error) {
      throw await this.explainCreation(error, request);
    }
    if (creation.body === null) {
      interim?.();
    } else if (interim !== undefined) {
      // The 104 goes when the core opens the content: the upload's lock is held and the write is
      // registered, so a HEAD that follows the 104 finds this request (and takes over from it if
      // it stalls) instead of the state before it.
      const body = announcingBody(creation.body, interim);
      upload = await this.finishAppend({ id: upload.id, offset: 0, body, context: request }, creation.finishAfterBody, request, profile);
    }
    if (creation.body !== null && interim === undefined && creation.finishAfterBody && upload.completedAt === null) {
      upload = await this.finishAppend({ id: upload.id, offset: upload.offset, length: upload.offset, body: null, context: request }, false, request, profile);
    }
    const complete = upload.completedAt !== null;
    this.send(request, response, profile, 201, {
      Location: location(upload),
      'Upload-Offset': upload.offset,
      ...completeness(profile, complete),
      'Upload-Limit': complete ? undefined : await this.uploadLimit(request, profile, upload),
    });
  }

  /** Offset retrieval: 204 with the offset, completeness, length when known, limits; never cached. */
  async head(id: string, request: IncomingMessage, response: unknown, profile: IetfProfile): Promise<void> {
    assertNoStateFields(request, profile);
    const upload = await this.uploads.head(id, request);
    this.send(request, response, profile, 204, {
      'Upload-Offset': upload.offset,
      ...completeness(profile, upload.completedAt !== null),
      'Upload-Length': upload.length ?? undefined,
      'Upload-Limit': await this.uploadLimit(request, profile, upload),
    });
  }

  /**
   * Upload append: `Upload-Offset` on every response (tus-js-client 4.3 reads it from each; the
   * drafts required it to -05), the completeness field, 200 when the upload is complete (the
   * drafts' example), else the version's status (201 to interop 6, 204 after).
   */
  async append(id: string, request: IncomingMessage, response: unknown, profile: IetfProfile): Promise<void> {
    const append = draftAppend(id, request, profile, this.rules);
    const upload = await this.finishAppend(append.command, append.finishAfterBody, request, profile);
    const complete = upload.completedAt !== null;
    this.send(request, response, profile, complete ? 200 : profile.appendSuccessStatus, {
      'Upload-Offset': upload.offset,
      ...completeness(profile, complete),
    });
  }

  /** Cancellation: 204 once the upload is gone (events and authorization as tus termination). */
  async terminate(id: string, request: IncomingMessage, response: unknown, profile: IetfProfile): Promise<void> {
    assertNoStateFields(request, profile);
    await this.uploads.terminate(id, request);
    this.send(request, response, profile, 204, {});
  }

  /** A draft response, with the interop version (as every 104 has it) and the draft's CORS fields. */
  send(request: IncomingMessage, response: unknown, profile: IetfProfile, status: number, headers: TusHeaders): void {
    this.responder.reply(request, response, status, { 'Upload-Draft-Interop-Version': String(profile.interopVersion), ...headers }, undefined, IETF_CORS_FIELDS);
  }

  /**
   * Appends, then, for complete content of unknown length, declares the length it made (the core's
   * deferred-length completion). A failure's answer learns the upload's state (see `explainAppend`).
   */
  private async finishAppend(command: AppendCommand, finishAfterBody: boolean, request: IncomingMessage, profile: IetfProfile): Promise<UploadInfo> {
    try {
      let upload = await this.uploads.append(command);
      if (finishAfterBody && upload.completedAt === null) {
        upload = await this.uploads.append({ id: upload.id, offset: upload.offset, length: upload.offset, body: null, context: request });
      }
      return upload;
    } catch (error) {
      throw await this.explainAppend(error, command, finishAfterBody, request, profile);
    }
  }

  /** The sender of the 104 announcing a new upload (it sends nothing when the response can no longer carry one). */
  private async interim(request: IncomingMessage, response: unknown, profile: IetfProfile, upload: UploadInfo, location: string): Promise<() => void> {
    const limit = profile.interimUploadLimit === false ? null : await this.uploadLimit(request, profile, upload);
    const head = formatInterimHead(creationInterim(profile, location, limit));
    return () => void writeInterim(request, rawResponse(response), head);
  }

  /** A creation refused for its size: the 413 carries the limits. */
  private async explainCreation(error: unknown, request: IncomingMessage): Promise<unknown> {
    if (error instanceof PayloadTooLargeError) recordErrorFacts(request, { uploadLimit: await this.limitValue(request, null) });
    return error;
  }

  /**
   * What the core's refusal of an append means in the draft, learnt from the upload's state, read
   * again on these failures only (all of them follow the `authorize` check: the state is the
   * caller's to know). An upload already complete refuses content: the completed-upload failure of
   * interop 6 and 7, an inconsistent length from 8 ("If the client attempted to append a non-zero
   * length document, the server MUST treat this as an inconsistent length failure"). Otherwise an
   * offset mismatch names both offsets; more bytes than a known length allows, or a length the core
   * refused, is an inconsistent length; a 413 past the maximum size carries the limits. Every such
   * answer carries the offset and, the upload not complete, `Upload-Complete: ?0`.
   */
  private async explainAppend(error: unknown, command: AppendCommand, declaresLength: boolean, request: IncomingMessage, profile: IetfProfile): Promise<unknown> {
    const explained =
      error instanceof OffsetMismatchError || error instanceof PayloadTooLargeError || error instanceof InvalidRequestError || error instanceof DigestMismatchError;
    if (!explained) return error;
    const current = await this.storage.get(command.id).catch(() => undefined);
    if (current === undefined) return error;
    const changesLength = declaresLength || command.length !== undefined;
    if (current.completedAt !== null && !(error instanceof OffsetMismatchError) && (command.body !== null || changesLength)) {
      recordErrorFacts(request, { offset: current.offset });
      return profile.interopVersion >= 8 ? new InconsistentLengthError('The upload is complete: no more content can be appended') : new UploadCompletedError();
    }
    recordErrorFacts(request, { offset: current.offset, complete: current.completedAt !== null });
    if (error instanceof OffsetMismatchError) return new OffsetMismatchError(error.message, { expected: current.offset, provided: command.offset });
    if (error instanceof PayloadTooLargeError && current.length !== null) {
      return new InconsistentLengthError(`The content goes past the upload's length of ${current.length} bytes`);
    }
    if (error instanceof PayloadTooLargeError) recordErrorFacts(request, { uploadLimit: await this.limitValue(request, current) });
    if (error instanceof InvalidRequestError && changesLength) return new InconsistentLengthError(error.message);
    return error;
  }

  /** `Upload-Limit` of an upload (interop 6 on), or undefined where the version has none. */
  private async uploadLimit(request: IncomingMessage, profile: IetfProfile, upload: UploadInfo): Promise<string | undefined> {
    if (profile.lifetimeLimitKey === null) return undefined;
    return formatUploadLimit(profile, await this.limits(request, upload)) ?? undefined;
  }

  /** `Upload-Limit` for a 413 (interop 6 on): the limits the request went past. */
  private async limitValue(request: IncomingMessage, upload: UploadInfo | null): Promise<string | null> {
    const profile = this.profileOf(request);
    return profile === null ? null : formatUploadLimit(profile, await this.limits(request, upload));
  }

  /**
   * The limits: `max-size` from `maxSize` (per request when it is a function), and the remaining
   * lifetime of an unfinished upload (`expirationSeconds` for one yet to be created). The module has
   * no limit per request, so no `max-append-size`.
   */
  private async limits(request: IncomingMessage, upload: UploadInfo | null): Promise<UploadLimits> {
    const maxSize = await this.config.maxSize(request);
    const limits: { -readonly [K in keyof UploadLimits]: number } = {};
    if (maxSize < Number.MAX_SAFE_INTEGER) limits.maxSize = maxSize;
    if (upload === null) {
      if (this.config.extensions.has('expiration') && this.config.expirationSeconds !== null) limits.lifetimeSeconds = this.config.expirationSeconds;
    } else if (upload.completedAt === null && upload.expiresAt !== null) {
      limits.lifetimeSeconds = (upload.expiresAt.getTime() - this.clock.now().getTime()) / 1000;
    }
    return limits;
  }
}

/** `body`, with `announce` run once, when the core opens it. */
function announcingBody(body: UploadBody, announce: () => void): UploadBody {
  return {
    declaredLength: body.declaredLength,
    stages: body.stages,
    keepOnInterrupt: body.keepOnInterrupt,
    verify: () => body.verify(),
    open: () => {
      announce();
      return body.open();
    },
    close: () => body.close(),
    get receiving() {
      return body.receiving;
    },
    get heldBack() {
      return body.heldBack;
    },
    get clientGone() {
      return body.clientGone;
    },
    interrupt: (reason) => body.interrupt(reason),
  };
}

/** The completeness field in the version's spelling. */
function completeness(profile: IetfProfile, complete: boolean): TusHeaders {
  const [name, value] = formatUploadComplete(profile, complete);
  return { [name]: value };
}
