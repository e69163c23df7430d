import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { assertTusResumable } from '../../protocol/headers.js';
import { header, rawRequest } from '../raw-request.js';

/**
 * Checklist 2: every tus request but OPTIONS names the protocol version in `Tus-Resumable`, else it
 * is refused with 412 before anything else happens.
 */
@Injectable()
export class TusResumableGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = rawRequest(context.switchToHttp().getRequest());
    // OPTIONS answers any caller; GET is a plain download, for browsers as much as tus clients.
    if (request.method !== 'OPTIONS' && request.method !== 'GET') assertTusResumable(header(request, 'tus-resumable'));
    return true;
  }
}
