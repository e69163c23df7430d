import { type CanActivate, type ExecutionContext, ForbiddenException, Inject, Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { lastValueFrom, isObservable } from 'rxjs';
import { rawRequest } from './raw-request.js';

/** Injection token of the `guards` extra: the app's guards for the tus routes. */
export const TusExtraGuards = Symbol('TusExtraGuards');

/**
 * Runs the app's `guards` (module extra) before every tus route except OPTIONS: a CORS preflight
 * carries no credentials, and must stay open for browsers to upload at all.
 */
@Injectable()
export class TusRouteGuards implements CanActivate, OnModuleInit {
  private guards: CanActivate[] = [];

  constructor(
    @Inject(TusExtraGuards) private readonly configured: Array<CanActivate | Type<CanActivate>>,
    private readonly moduleRef: ModuleRef,
  ) {}

  async onModuleInit(): Promise<void> {
    this.guards = await Promise.all(
      this.configured.map((guard) => (typeof guard === 'function' ? this.moduleRef.create(guard) : Promise.resolve(guard))),
    );
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    // Synchronous when there is nothing to run: Nest then awaits nothing for this guard.
    if (this.guards.length === 0 || rawRequest(context.switchToHttp().getRequest()).method === 'OPTIONS') return true;
    return this.runGuards(context);
  }

  private async runGuards(context: ExecutionContext): Promise<boolean> {
    for (const guard of this.guards) {
      const verdict = guard.canActivate(context);
      const allowed = isObservable(verdict) ? await lastValueFrom(verdict) : await verdict;
      if (!allowed) throw new ForbiddenException('Forbidden resource');
    }
    return true;
  }
}
