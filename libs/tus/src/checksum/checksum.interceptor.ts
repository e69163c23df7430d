import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import type { Observable } from 'rxjs';
import { TUS_CONFIG, type TusConfig } from '../tus.config.js';
import { parseUploadChecksum } from '../protocol/upload-checksum.js';
import { header, rawRequest } from '../http/raw-request.js';
import { ChecksumVerifier } from './checksum-verifier.js';

const VERIFIER = Symbol('tus.checksum-verifier');

/**
 * Checksum and checksum-trailer extensions: when a chunk carries `Upload-Checksum` (or announces it
 * as a trailer with `Trailer: Upload-Checksum`), attaches a {@link ChecksumVerifier}
 * to the request; the upload service puts its stage in the body's pipeline and calls `verify()`
 * before the offset moves. A malformed header or an unknown algorithm is a 400 before any byte is
 * read. Requests without the header pay nothing.
 */
@Injectable()
export class ChecksumInterceptor implements NestInterceptor {
  constructor(@Inject(TUS_CONFIG) private readonly config: TusConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = rawRequest(context.switchToHttp().getRequest());
    (request as RequestWithVerifier)[VERIFIER] = this.verifierFor(request);
    return next.handle();
  }

  private verifierFor(request: IncomingMessage): ChecksumVerifier | undefined {
    const { extensions } = this.config;
    const value = header(request, 'upload-checksum');
    if (value !== undefined) return extensions.has('checksum') ? ChecksumVerifier.forHeader(parseUploadChecksum(value)) : undefined;
    const trailers = header(request, 'trailer');
    if (trailers !== undefined && extensions.has('checksum-trailer') && /(^|,)\s*upload-checksum\s*(,|$)/i.test(trailers)) {
      return ChecksumVerifier.forTrailer(request);
    }
    return undefined;
  }
}

type RequestWithVerifier = IncomingMessage & { [VERIFIER]?: ChecksumVerifier };

/** The verifier the interceptor attached to this request, if its chunk carries a checksum. */
export function checksumVerifierOf(request: IncomingMessage): ChecksumVerifier | undefined {
  return (request as RequestWithVerifier)[VERIFIER];
}
