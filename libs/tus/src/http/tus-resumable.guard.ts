import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import { assertTusResumable } from '../protocol/headers.js';
import { header, rawRequest } from './raw-request.js';

/**
 * Checklist 2: every request but OPTIONS names the protocol version in `Tus-Resumable`, else it
 * is refused with 412 before anything else happens.
 */
@Injectable()
export class TusResumableGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    const request = rawRequest(context.switchToHttp().getRequest());
    if (request.method !== 'OPTIONS') assertTusResumable(header(request, 'tus-resumable'));
    return true;
  }
}
