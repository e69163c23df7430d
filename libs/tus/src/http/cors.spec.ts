import { describe, expect, it } from '@jest/globals';
import { allowedOrigin, corsHeaders } from './cors.js';

describe('allowedOrigin', () => {
  it.each([
    [{ origin: '*' as const }, 'https://a.io', '*'],
    [{ origin: '*' as const, credentials: true }, 'https://a.io', undefined],
    [{ origin: ['https://a.io'] }, 'https://a.io', 'https://a.io'],
    [{ origin: ['https://a.io'], credentials: true }, 'https://a.io', 'https://a.io'],
    [{ origin: ['https://a.io'] }, 'https://b.io', undefined],
    [{ origin: /\.example\.com$/ }, 'https://x.example.com', 'https://x.example.com'],
    [{ origin: (o: string) => o.endsWith('.dev') }, 'http://me.dev', 'http://me.dev'],
    [{ origin: '*' as const }, undefined, undefined],
  ])('%p for %p -> %p', (cors, origin, expected) => {
    expect(allowedOrigin(cors, origin)).toBe(expected);
  });
});

describe('corsHeaders', () => {
  it('exposes the tus headers on every response, and answers preflights with methods and headers', () => {
    const cors = { origin: ['https://a.io'], credentials: true, maxAge: 600 };
    const simple = corsHeaders(cors, 'https://a.io', false);
    expect(simple['Access-Control-Expose-Headers']).toContain('Upload-Offset');
    expect(simple['Access-Control-Allow-Credentials']).toBe('true');
    expect(simple.Vary).toBe('Origin');
    expect(simple['Access-Control-Allow-Methods']).toBeUndefined();
    const preflight = corsHeaders(cors, 'https://a.io', true);
    expect(preflight['Access-Control-Allow-Methods']).toBe('POST, GET, HEAD, PATCH, DELETE, OPTIONS');
    expect(preflight['Access-Control-Allow-Headers']).toContain('Upload-Checksum');
    expect(preflight['Access-Control-Max-Age']).toBe(600);
  });

  it("lists the fields it is given (the IETF draft's)", () => {
    const fields = { expose: ['Upload-Complete', 'Upload-Limit'], allowHeaders: ['Upload-Draft-Interop-Version'] };
    const preflight = corsHeaders({ origin: '*' }, 'https://a.io', true, fields);
    expect(preflight['Access-Control-Expose-Headers']).toBe('Upload-Complete, Upload-Limit');
    expect(preflight['Access-Control-Allow-Headers']).toBe('Upload-Draft-Interop-Version');
  });

  it('sends nothing to an origin that is not allowed', () => {
    expect(corsHeaders({ origin: ['https://a.io'] }, 'https://evil.io', true)).toEqual({});
  });
});
