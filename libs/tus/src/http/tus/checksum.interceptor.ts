import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { TusConfig } from '../../core/tus-config.js';
import { draftProfileOf } from '../ietf/ietf-request.js';
import { rawRequest } from '../raw-request.js';
import { TusHttpConfig } from '../tus-http-config.js';
import { attachChecksumVerifier } from './checksum-request.js';

/**
 * Checksum and checksum-trailer extensions, on the routes that take a chunk: attaches the
 * request's {@link ChecksumVerifier} (see `attachChecksumVerifier`) before the handler runs, so a
 * malformed `Upload-Checksum` is a 400 before any byte is read, and the digest is computed while
 * the body streams to storage. A request of the IETF draft carries RFC 9530 digests instead, which
 * its own front door reads.
 */
@Injectable()
export class ChecksumInterceptor implements NestInterceptor {
  constructor(
    @Inject(TusConfig) private readonly config: TusConfig,
    @Inject(TusHttpConfig) private readonly http: TusHttpConfig,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = rawRequest(context.switchToHttp().getRequest());
    if (draftProfileOf(request, this.http.protocols) === null) attachChecksumVerifier(request, this.config.extensions);
    return next.handle();
  }
}
