import { type CallHandler, type ExecutionContext, Inject, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Observable } from 'rxjs';
import { TusConfig } from '../../core/tus-config.js';
import { rawRequest } from '../raw-request.js';
import { attachChecksumVerifier } from './checksum-request.js';

/**
 * Checksum and checksum-trailer extensions, on the routes that take a chunk: attaches the
 * request's {@link ChecksumVerifier} (see `attachChecksumVerifier`) before the handler runs, so a
 * malformed `Upload-Checksum` is a 400 before any byte is read, and the digest is computed while
 * the body streams to storage.
 */
@Injectable()
export class ChecksumInterceptor implements NestInterceptor {
  constructor(@Inject(TusConfig) private readonly config: TusConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    attachChecksumVerifier(rawRequest(context.switchToHttp().getRequest()), this.config.extensions);
    return next.handle();
  }
}
