import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { InvalidRequestError } from '../../errors/tus.errors.js';
import { assertTusResumable } from '../../protocol/headers.js';
import { draftProfileOf } from '../ietf/ietf-request.js';
import { header, rawRequest } from '../raw-request.js';
import { TusHttpConfig } from '../tus-http-config.js';

/**
 * Checklist 2: every tus request but OPTIONS names the protocol version in `Tus-Resumable`, else it
 * is refused with 412 before anything else happens. A request of the IETF draft (a known
 * `Upload-Draft-Interop-Version`, the draft served) is not a tus request: it goes on to the
 * draft's front door. With tus not served, any other request but OPTIONS and GET is a 400.
 */
@Injectable()
export class TusResumableGuard implements CanActivate {
  constructor(@Inject(TusHttpConfig) private readonly config: TusHttpConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = rawRequest(context.switchToHttp().getRequest());
    // OPTIONS answers any caller; GET is a plain download, for browsers as much as tus clients.
    if (request.method === 'OPTIONS' || request.method === 'GET' || draftProfileOf(request, this.config.protocols) !== null) return true;
    if (!this.config.protocols.has('tus')) {
      throw new InvalidRequestError('This server speaks the IETF resumable-upload draft only: send Upload-Draft-Interop-Version (3 to 8)');
    }
    assertTusResumable(header(request, 'tus-resumable'));
    return true;
  }
}
