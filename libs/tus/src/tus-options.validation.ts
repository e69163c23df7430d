import { TUS_EXTENSIONS } from './tus.constants.js';
import type { TusModuleOptions } from './tus-options.interface.js';

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isNonNegativeInteger = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/** Lists what is wrong with the options (empty when they are valid), so start-up fails with all of it at once. */
export function validateTusOptions(options: TusModuleOptions): string[] {
  const problems: string[] = [];
  const { uploadDir, maxSize, expirationSeconds, extensions, storage, postReceiveIntervalMs } = options;
  if (uploadDir !== undefined && (typeof uploadDir !== 'string' || uploadDir === '')) {
    problems.push('uploadDir must be a non-empty string');
  }
  if (maxSize !== undefined && !isFunction(maxSize) && !(isNonNegativeInteger(maxSize) && (maxSize as number) > 0)) {
    problems.push('maxSize must be a positive integer number of bytes or a function of the request');
  }
  if (options.maxMetadataBytes !== undefined && !(isNonNegativeInteger(options.maxMetadataBytes) && options.maxMetadataBytes > 0)) {
    problems.push('maxMetadataBytes must be a positive integer number of bytes');
  }
  if (expirationSeconds !== undefined && expirationSeconds !== null && !(isNonNegativeInteger(expirationSeconds) && expirationSeconds > 0)) {
    problems.push('expirationSeconds must be a positive integer, or null to disable expiration');
  }
  if (extensions !== undefined) {
    if (!Array.isArray(extensions)) problems.push('extensions must be an array');
    else {
      for (const extension of extensions) {
        if (!(TUS_EXTENSIONS as readonly string[]).includes(extension)) {
          problems.push(`unknown extension "${String(extension)}" (known: ${TUS_EXTENSIONS.join(', ')})`);
        }
      }
    }
  }
  if (storage !== undefined && !isFunction(storage) && (typeof storage !== 'object' || storage === null || !isFunction((storage as { write?: unknown }).write))) {
    problems.push('storage must be a TusStorageBackend instance or class');
  }
  for (const name of ['metadataOverride', 'generateId', 'authorize'] as const) {
    if (options[name] !== undefined && !isFunction(options[name])) problems.push(`${name} must be a function`);
  }
  for (const name of ['relativeLocation', 'trustForwardedHeaders', 'download', 'downloadUnfinished'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') problems.push(`${name} must be a boolean`);
  }
  if (postReceiveIntervalMs !== undefined && !isNonNegativeInteger(postReceiveIntervalMs)) {
    problems.push('postReceiveIntervalMs must be a non-negative integer');
  }
  for (const name of ['cleanupIntervalSeconds', 'idleTimeoutSeconds', 'idleMinBytes', 'shutdownTimeoutSeconds'] as const) {
    if (options[name] !== undefined && !isNonNegativeInteger(options[name])) problems.push(`${name} must be a non-negative integer`);
  }
  if (options.cors !== undefined) problems.push(...validateCors(options.cors));
  return problems;
}

function validateCors(cors: TusModuleOptions['cors']): string[] {
  if (cors === null || typeof cors !== 'object') return ['cors must be an object'];
  const problems: string[] = [];
  const { origin, credentials, maxAge } = cors;
  const validOrigin =
    origin === '*' || origin instanceof RegExp || isFunction(origin) || (Array.isArray(origin) && origin.every((o) => typeof o === 'string'));
  if (!validOrigin) problems.push("cors.origin must be '*', a list of origins, a RegExp or a function");
  if (origin === '*' && credentials) problems.push("cors.origin '*' cannot be combined with credentials: list the origins");
  if (maxAge !== undefined && !isNonNegativeInteger(maxAge)) problems.push('cors.maxAge must be a non-negative integer');
  return problems;
}

/** Normalises the route path: one leading slash, no trailing slash. Throws on a path that cannot be a route. */
export function normalizeTusPath(path: string): string {
  if (typeof path !== 'string' || !/^\/?[A-Za-z0-9._~\-/]*$/.test(path)) {
    throw new TypeError(`TusModule path "${String(path)}" must be a URL path such as "/files"`);
  }
  const trimmed = path.replace(/^\/+|\/+$/g, '');
  return `/${trimmed}`;
}
