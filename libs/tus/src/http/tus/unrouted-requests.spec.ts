import { describe, expect, it } from '@jest/globals';
import { MethodNotAllowedError, UploadNotFoundError } from '../../errors/tus.errors.js';
import { allowedMethods, placeInTusPath, type TusPathPlace, type TusRoutesConfig, unroutedException } from './unrouted-requests.js';

const ALL: TusRoutesConfig = { extensions: new Set(['creation', 'termination']), download: true };

describe('placeInTusPath', () => {
  it.each<[string, string, TusPathPlace]>([
    ['/files', '/files', 'collection'],
    ['/files/', '/files', 'collection'],
    ['/files?x=1', '/files', 'collection'],
    ['/files/abc', '/files', 'upload'],
    ['/files/abc/', '/files', 'upload'],
    ['/files/abc?x=/y/z', '/files', 'upload'],
    ['/files/a/b', '/files', 'deeper'],
    ['/files/../index.html', '/files', 'deeper'],
    ['/files//', '/files', 'deeper'],
    ['/files//x', '/files', 'deeper'],
    ['/', '/files', 'outside'],
    ['/filesystem/a', '/files', 'outside'],
    ['/file', '/files', 'outside'],
    ['/api/files/x', '/api/files', 'upload'],
    ['/files/x', '/api/files', 'outside'],
    ['/x', '/', 'upload'],
    ['/', '/', 'collection'],
    ['/a/b', '/', 'deeper'],
  ])('%s under %s is %s', (url, mount, place) => {
    expect(placeInTusPath(url, mount, true)).toBe(place);
  });

  it('compares the path with or without regard to case, as the router does', () => {
    expect(placeInTusPath('/FILES/a/b', '/files', true)).toBe('outside');
    expect(placeInTusPath('/FILES/a/b', '/files', false)).toBe('deeper');
  });
});

describe('unroutedException', () => {
  it('is a 404 for a path deeper than an upload, whatever the method', () => {
    for (const method of ['GET', 'OPTIONS', 'PATCH']) expect(unroutedException('deeper', method, ALL)).toBeInstanceOf(UploadNotFoundError);
  });

  it('is a 405 naming the served methods for a method the collection or an upload does not serve', () => {
    const collection = unroutedException('collection', 'GET', ALL) as MethodNotAllowedError;
    expect(collection).toBeInstanceOf(MethodNotAllowedError);
    expect(collection.allow).toEqual(['OPTIONS', 'POST']);
    expect(collection.message).toBe('GET is not allowed on the upload collection');
    const upload = unroutedException('upload', 'PUT', ALL) as MethodNotAllowedError;
    expect(upload.allow).toEqual(['OPTIONS', 'HEAD', 'GET', 'PATCH', 'POST', 'DELETE']);
  });

  it('is nothing outside the path, or for a method a route may still take', () => {
    expect(unroutedException('outside', 'PUT', ALL)).toBeUndefined();
    expect(unroutedException('upload', 'PATCH', ALL)).toBeUndefined();
    expect(unroutedException('collection', 'POST', ALL)).toBeUndefined();
  });

  it('leaves out of Allow what the configuration turns off', () => {
    expect(allowedMethods('collection', { extensions: new Set(), download: false })).toEqual(['OPTIONS']);
    expect(allowedMethods('upload', { extensions: new Set(), download: false })).toEqual(['OPTIONS', 'HEAD', 'PATCH', 'POST']);
    expect(unroutedException('upload', 'DELETE', { extensions: new Set(), download: true })).toBeInstanceOf(MethodNotAllowedError);
  });
});
