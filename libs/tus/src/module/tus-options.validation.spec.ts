import { describe, expect, it } from '@jest/globals';
import type { TusModuleOptions } from './tus-options.interface.js';
import { closestName, normalizeTusPath, validateTusOptions } from './tus-options.validation.js';

describe('validateTusOptions', () => {
  it('accepts the defaults and a full valid set', () => {
    expect(validateTusOptions({})).toEqual([]);
    expect(
      validateTusOptions({
        uploadDir: '/tmp/x',
        maxSize: () => 5,
        expirationSeconds: null,
        extensions: ['creation'],
        relativeLocation: true,
        trustForwardedHeaders: false,
        generateId: () => 'id',
        metadataOverride: (_req, metadata) => metadata,
        postReceiveIntervalMs: 0,
      }),
    ).toEqual([]);
  });

  it('reports every problem at once', () => {
    const problems = validateTusOptions({ uploadDir: '', maxSize: 0, expirationSeconds: -5, postReceiveIntervalMs: -1 });
    expect(problems).toHaveLength(4);
  });

  it('takes idleMinBytes as a non-negative integer', () => {
    expect(validateTusOptions({ idleTimeoutSeconds: 10, idleMinBytes: 100 })).toEqual([]);
    expect(validateTusOptions({ idleMinBytes: -1 })).toEqual(['idleMinBytes must be a non-negative integer']);
    expect(validateTusOptions({ idleMinBytes: 0.5 })).toEqual(['idleMinBytes must be a non-negative integer']);
  });
});

describe('protocols and ietf', () => {
  const validate = (options: Record<string, unknown>) => validateTusOptions(options as TusModuleOptions);

  it('takes a non-empty list of known protocols', () => {
    expect(validate({ protocols: ['tus', 'ietf-draft'] })).toEqual([]);
    expect(validate({ protocols: ['ietf-draft'] })).toEqual([]);
    expect(validate({ protocols: [] })).toEqual(["protocols must be a non-empty array of 'tus', 'ietf-draft'"]);
    expect(validate({ protocols: 'tus' })).toEqual(["protocols must be a non-empty array of 'tus', 'ietf-draft'"]);
    expect(validate({ protocols: ['tus', 'tus-v2'] })).toEqual(['unknown protocol "tus-v2" (known: tus, ietf-draft)']);
  });

  it('takes ietf.interimResponses as a boolean, and nothing else in ietf', () => {
    expect(validate({ ietf: { interimResponses: false } })).toEqual([]);
    expect(validate({ ietf: {} })).toEqual([]);
    expect(validate({ ietf: { interimResponses: 'no' } })).toEqual(['ietf.interimResponses must be a boolean']);
    expect(validate({ ietf: { interim: false } })).toEqual(['unknown option ietf.interim (options: interimResponses)']);
    expect(validate({ ietf: false })).toEqual(['ietf must be an object: { interimResponses }']);
  });
});

describe('unknown option names', () => {
  const validate = (options: Record<string, unknown>) => validateTusOptions(options as TusModuleOptions);

  it('names a misspelled key and the option it was probably meant to be', () => {
    expect(validate({ expirationSecond: 60, maxsize: 5 })).toEqual([
      'unknown option expirationSecond: did you mean expirationSeconds?',
      'unknown option maxsize: did you mean maxSize?',
    ]);
    expect(validate({ idleTimeoutSecs: 5 })).toEqual(['unknown option idleTimeoutSecs: did you mean idleTimeoutSeconds?']);
  });

  it('lists the options when no name is near', () => {
    const [problem] = validate({ colour: 'blue' });
    expect(problem).toMatch(/^unknown option colour \(options: uploadDir, maxSize, .*idleMinBytes, shutdownTimeoutSeconds, metrics, tracing, protocols, ietf\)$/);
  });

  it('reports a key even when its value is undefined', () => {
    expect(validate({ uploaddir: undefined })).toEqual(['unknown option uploaddir: did you mean uploadDir?']);
  });

  it('says where an extra returned by a factory belongs', () => {
    expect(validate({ path: '/files' })).toEqual([
      'path is a module extra, not an option: pass it to forRootAsync({ path, useFactory }) itself, not in the options the factory returns',
    ]);
  });

  it('is reported alongside the other problems', () => {
    expect(validate({ maxSize: -1, expirationSecond: 60 })).toHaveLength(2);
  });
});

describe('closestName', () => {
  const known = ['maxSize', 'maxMetadataBytes', 'download', 'downloadUnfinished'];
  it.each([
    ['maxsize', 'maxSize'],
    ['MAXSIZE', 'maxSize'],
    ['maxSizes', 'maxSize'],
    ['downlaod', 'download'],
    ['downloadUnfinshed', 'downloadUnfinished'],
  ])('%p -> %p', (name, expected) => expect(closestName(name, known)).toBe(expected));

  it.each([['size'], ['colour'], ['x']])('%p matches nothing', (name) => expect(closestName(name, known)).toBeUndefined());
});

describe('maxMetadataBytes', () => {
  it('takes a positive integer number of bytes', () => {
    expect(validateTusOptions({ maxMetadataBytes: 16_384 })).toEqual([]);
    for (const value of [0, -1, 1.5, '4096']) {
      expect(validateTusOptions({ maxMetadataBytes: value as number })).toEqual(['maxMetadataBytes must be a positive integer number of bytes']);
    }
  });
});

describe('metrics and tracing', () => {
  const registry = { getSingleMetric: () => undefined, metrics: async () => '' };

  it('takes metrics as a boolean or { registry, prefix }', () => {
    for (const metrics of [true, false, {}, { registry }, { prefix: 'uploads_' }, { registry, prefix: '' }]) {
      expect(validateTusOptions({ metrics })).toEqual([]);
    }
  });

  it('refuses anything else, naming what is wrong', () => {
    const validate = (metrics: unknown) => validateTusOptions({ metrics: metrics as TusModuleOptions['metrics'] });
    expect(validate('yes')).toEqual(['metrics must be true, false or { registry, prefix }']);
    expect(validate({ registry: {} })).toEqual(['metrics.registry must be a prom-client Registry']);
    expect(validate({ prefix: '1tus' })).toEqual([
      'metrics.prefix must start a Prometheus metric name: letters, digits, _ and :, not starting with a digit',
    ]);
    expect(validate({ prefx: 'x' })).toEqual(['unknown option metrics.prefx (options: registry, prefix)']);
  });

  it('takes tracing as a boolean', () => {
    expect(validateTusOptions({ tracing: false })).toEqual([]);
    expect(validateTusOptions({ tracing: 'on' as unknown as boolean })).toEqual(['tracing must be a boolean']);
  });
});

describe('normalizeTusPath', () => {
  it.each([
    ['/files', '/files'],
    ['files', '/files'],
    ['/api/files/', '/api/files'],
    ['/', '/'],
  ])('%p -> %p', (path, expected) => expect(normalizeTusPath(path)).toBe(expected));

  it.each([['/files/:id'], ['/a b'], ['/files?x']])('rejects %p', (path) => {
    expect(() => normalizeTusPath(path)).toThrow(TypeError);
  });
});
