import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { send, sendRawPath, TUS } from '../support/http/requests.js';
import { startSample, type SampleProcess } from '../support/servers/sample-process.js';
import { PLATFORMS } from '../support/apps/tus-app.js';

const PAGE_ORIGIN = 'https://page.example';

/** The built sample app, as `npm start` runs it: its settings and what it serves beside the tus routes. */
describe.each(PLATFORMS)('the sample app on %s', (platform) => {
  let sample: SampleProcess;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-sample-'));
    sample = await startSample({ HTTP_ADAPTER: platform, UPLOAD_DIR: dir, TUS_CORS_ORIGINS: `https://other.example, ${PAGE_ORIGIN}` });
  });
  afterAll(async () => {
    await sample?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  describe('TUS_CORS_ORIGINS turns on the module’s cors option', () => {
    it('answers a preflight from a listed origin', async () => {
      const response = await send('OPTIONS', sample.url, {
        headers: { Origin: PAGE_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'tus-resumable, upload-length' },
      });
      expect(response.status).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe(PAGE_ORIGIN);
      expect(String(response.headers['access-control-allow-methods'])).toContain('PATCH');
      expect(String(response.headers['access-control-allow-headers']).toLowerCase()).toContain('upload-length');
    });

    it('lets a listed origin read the creation’s Location', async () => {
      const response = await send('POST', sample.url, { headers: { ...TUS, Origin: PAGE_ORIGIN, 'Upload-Length': 1 } });
      expect(response.status).toBe(201);
      expect(response.headers['access-control-allow-origin']).toBe(PAGE_ORIGIN);
      expect(String(response.headers['access-control-expose-headers'])).toContain('Location');
    });

    it('sends nothing to an origin not listed', async () => {
      const response = await send('POST', sample.url, { headers: { ...TUS, Origin: 'https://evil.example', 'Upload-Length': 1 } });
      expect(response.status).toBe(201);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
    });
  });

  // The page's static files are served beside the tus routes; nothing under the tus path is one.
  it.each([
    ['HEAD', '/files/..'],
    ['GET', '/files/..'],
    // Express routes without regard to case: /FILES is the tus path there (not on Fastify).
    ...(platform === 'express' ? [['HEAD', '/FILES/..']] : []),
    // A file of the page's folder named through the tus path: @fastify/static's wildcard route
    // took these and answered its 403 (a path with ..) or the file.
    ['GET', '/files/../index.html'],
    ['HEAD', '/files/../index.html'],
    ['GET', '/files/x/../../index.html'],
    ['GET', '/files/a/b'],
  ])('%s %s is the tus 404 with Tus-Resumable, not a static file or a redirect', async (method, path) => {
    const response = await sendRawPath(method, sample.url, path, { headers: TUS });
    expect(response.status).toBe(404);
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.headers.location).toBeUndefined();
  });

  it('answers a method the tus routes do not serve with 405 and Tus-Resumable', async () => {
    const response = await sendRawPath('PUT', sample.url, '/files/x', { headers: TUS });
    expect(response.status).toBe(405);
    expect(response.headers['tus-resumable']).toBe('1.0.0');
    expect(response.headers.allow).toContain('PATCH');
  });

  it('serves the page and its script outside the tus path without Tus-Resumable', async () => {
    const page = await send('GET', new URL('/index.html', sample.url).href);
    expect(page.status).toBe(200);
    expect(page.headers['tus-resumable']).toBeUndefined();
    const script = await send('GET', new URL('/vendor/tus-js-client/tus.min.js', sample.url).href);
    expect(script.status).toBe(200);
    expect(script.headers['tus-resumable']).toBeUndefined();
  });

  it('still serves the page at /', async () => {
    const response = await send('GET', new URL('/', sample.url).href);
    expect(response.status).toBe(200);
    expect(response.text).toContain('<html');
  });
});

describe('the sample app without TUS_CORS_ORIGINS', () => {
  let sample: SampleProcess;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nestjs-tus-sample-'));
    sample = await startSample({ UPLOAD_DIR: dir, TUS_CORS_ORIGINS: '' });
  });
  afterAll(async () => {
    await sample?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('sends no CORS headers', async () => {
    const response = await send('POST', sample.url, { headers: { ...TUS, Origin: PAGE_ORIGIN, 'Upload-Length': 1 } });
    expect(response.status).toBe(201);
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
  });
});
