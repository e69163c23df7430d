import { TUS_EXTENSIONS } from '../protocol/tus.constants.js';
import type { UploadProtocol } from '../protocol/upload-info.js';
import type { TusModuleExtras, TusModuleOptions } from './tus-options.interface.js';

const isFunction = (value: unknown): boolean => typeof value === 'function';
const isNonNegativeInteger = (value: unknown): boolean => Number.isSafeInteger(value) && (value as number) >= 0;

/**
 * Every option name, so a misspelled key (a `forRootAsync` factory's result, which tsc does not
 * check for excess properties) fails the boot instead of being ignored. A `Record` over the
 * interface's keys: adding an option without listing it here does not compile.
 */
const OPTION_NAMES = Object.keys({
  uploadDir: true,
  maxSize: true,
  expirationSeconds: true,
  extensions: true,
  storage: true,
  metadataOverride: true,
  maxMetadataBytes: true,
  relativeLocation: true,
  trustForwardedHeaders: true,
  generateId: true,
  postReceiveIntervalMs: true,
  authorize: true,
  download: true,
  downloadUnfinished: true,
  cleanupIntervalSeconds: true,
  cors: true,
  idleTimeoutSeconds: true,
  idleMinBytes: true,
  shutdownTimeoutSeconds: true,
  metrics: true,
  tracing: true,
  protocols: true,
  ietf: true,
} satisfies Record<keyof TusModuleOptions, true>);

/** The protocols the module serves (`protocols`). */
const PROTOCOLS: readonly UploadProtocol[] = ['tus', 'ietf-draft'];

/** The extras: they shape the routes, so they are read before any factory runs, never from its result. */
const EXTRA_NAMES = Object.keys({ path: true, isGlobal: true, guards: true } satisfies Record<keyof TusModuleExtras, true>);

/** Lists what is wrong with the options (empty when they are valid), so start-up fails with all of it at once. */
export function validateTusOptions(options: TusModuleOptions): string[] {
  const problems: string[] = unknownOptionNames(options);
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
  for (const name of ['relativeLocation', 'trustForwardedHeaders', 'download', 'downloadUnfinished', 'tracing'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'boolean') problems.push(`${name} must be a boolean`);
  }
  if (postReceiveIntervalMs !== undefined && !isNonNegativeInteger(postReceiveIntervalMs)) {
    problems.push('postReceiveIntervalMs must be a non-negative integer');
  }
  for (const name of ['cleanupIntervalSeconds', 'idleTimeoutSeconds', 'idleMinBytes', 'shutdownTimeoutSeconds'] as const) {
    if (options[name] !== undefined && !isNonNegativeInteger(options[name])) problems.push(`${name} must be a non-negative integer`);
  }
  if (options.cors !== undefined) problems.push(...validateCors(options.cors));
  if (options.metrics !== undefined) problems.push(...validateMetrics(options.metrics));
  if (options.protocols !== undefined) problems.push(...validateProtocols(options.protocols));
  if (options.ietf !== undefined) problems.push(...validateIetf(options.ietf));
  return problems;
}

function validateProtocols(protocols: TusModuleOptions['protocols']): string[] {
  if (!Array.isArray(protocols) || protocols.length === 0) return [`protocols must be a non-empty array of ${PROTOCOLS.map((p) => `'${p}'`).join(', ')}`];
  const unknown = protocols.filter((protocol) => !PROTOCOLS.includes(protocol));
  return unknown.map((protocol) => `unknown protocol "${String(protocol)}" (known: ${PROTOCOLS.join(', ')})`);
}

function validateIetf(ietf: TusModuleOptions['ietf']): string[] {
  if (ietf === null || typeof ietf !== 'object') return ['ietf must be an object: { interimResponses }'];
  const problems = Object.keys(ietf)
    .filter((name) => name !== 'interimResponses')
    .map((name) => `unknown option ietf.${name} (options: interimResponses)`);
  if (ietf.interimResponses !== undefined && typeof ietf.interimResponses !== 'boolean') problems.push('ietf.interimResponses must be a boolean');
  return problems;
}

function validateMetrics(metrics: TusModuleOptions['metrics']): string[] {
  if (typeof metrics === 'boolean') return [];
  if (metrics === null || typeof metrics !== 'object') return ['metrics must be true, false or { registry, prefix }'];
  const problems: string[] = [];
  for (const name of Object.keys(metrics)) {
    if (name !== 'registry' && name !== 'prefix') problems.push(`unknown option metrics.${name} (options: registry, prefix)`);
  }
  const { registry, prefix } = metrics;
  if (registry !== undefined && (registry === null || typeof registry !== 'object' || !isFunction(registry.getSingleMetric))) {
    problems.push('metrics.registry must be a prom-client Registry');
  }
  if (prefix !== undefined && (typeof prefix !== 'string' || !/^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/.test(prefix))) {
    problems.push('metrics.prefix must start a Prometheus metric name: letters, digits, _ and :, not starting with a digit');
  }
  return problems;
}

function unknownOptionNames(options: TusModuleOptions): string[] {
  return Object.keys(options)
    .filter((name) => !OPTION_NAMES.includes(name))
    .map((name) => {
      if (EXTRA_NAMES.includes(name)) {
        return `${name} is a module extra, not an option: pass it to forRootAsync({ ${name}, useFactory }) itself, not in the options the factory returns`;
      }
      const closest = closestName(name, OPTION_NAMES);
      return closest === undefined
        ? `unknown option ${name} (options: ${OPTION_NAMES.join(', ')})`
        : `unknown option ${name}: did you mean ${closest}?`;
    });
}

/** The known name nearest to `name` (case-insensitive edit distance), if near enough to be a typo of it. */
export function closestName(name: string, known: readonly string[]): string | undefined {
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (best === undefined || distance < best.distance) best = { name: candidate, distance };
  }
  // A third of the name's letters (at least 2) may differ: `maxsize`, `expirationSecond`,
  // `idleTimeoutSecs` are found; an unrelated word is not matched to whatever happens to be nearest.
  return best !== undefined && best.distance <= Math.max(2, Math.floor(name.length / 3)) ? best.name : undefined;
}

/** Levenshtein distance: insertions, deletions and substitutions. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
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
