import { ConfigurableModuleBuilder } from '@nestjs/common';
import { DEFAULT_TUS_PATH } from './tus-defaults.js';
import type { TusModuleExtras, TusModuleOptions } from './tus-options.interface.js';
import { normalizeTusPath } from './tus-options.validation.js';
import { createTusController } from '../http/tus/tus.controller.js';
import { TusExtraGuards } from '../http/tus-route.guards.js';

/** Injection token of the route path, normalised (a string). */
export const TusPath = Symbol('TusPath');

export const {
  ConfigurableModuleClass: ConfigurableTusModule,
  MODULE_OPTIONS_TOKEN: TUS_MODULE_OPTIONS,
  OPTIONS_TYPE: TUS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TUS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TusModuleOptions>({ moduleName: 'Tus' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createTusOptions')
  .setExtras<TusModuleExtras>({ path: DEFAULT_TUS_PATH, isGlobal: false, guards: [] }, (definition, extras) => {
    // The path is an extra, not an option: routes are registered before async options resolve.
    const path = normalizeTusPath(extras.path ?? DEFAULT_TUS_PATH);
    return {
      ...definition,
      global: extras.isGlobal,
      controllers: [...(definition.controllers ?? []), createTusController(path)],
      providers: [
        ...(definition.providers ?? []),
        { provide: TusPath, useValue: path },
        { provide: TusExtraGuards, useValue: extras.guards ?? [] },
      ],
    };
  })
  .build();
