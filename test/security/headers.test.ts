// Finding 6: security headers on pages and on everything else. Vitest does not build or
// run Next.js (test/harness-server.ts serves the agent routes without it), so pages are
// tested at the level that gives them their headers, the real proxy.ts with a real
// NextRequest and Next's own matcher check, and the rest through a real HTTP server
// that answers the way server.ts does: base headers first, then the real /cache handler
// and a real route handler. (The browser check against a built app is e2e, with the CSP
// on: e2e/*.ui.spec.ts.)
import http from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { NextRequest } from 'next/server';
import { unstable_doesMiddlewareMatch } from 'next/experimental/testing/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import { handleCacheRequest } from '@/lib/cache/serve';
import { resetEnvCache } from '@/lib/env';
import { baseSecurityHeaders } from '@/lib/http/security-headers';
import { config as proxyConfig, proxy } from '@/proxy';
import { makeOrg, type OrgFixture } from '../fixtures';

let fx: OrgFixture;
let server: http.Server;
let base: string;
let tmp: string;

function setPublicUrl(url: string) {
  process.env.FLOTILLA_URL = url;
  resetEnvCache();
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-headers-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  setPublicUrl('http://localhost:3000');
  fx = await makeOrg();
  // What server.ts does for every request before it dispatches: the base headers.
  const headers = Object.entries(baseSecurityHeaders());
  server = http.createServer(async (req, res) => {
    for (const [name, value] of headers) res.setHeader(name, value);
    const pathname = (req.url ?? '/').split('?')[0] as string;
    if (pathname.startsWith('/cache/')) return handleCacheRequest(req, res, pathname);
    const response = await hostsRoute.GET(new NextRequest(`http://localhost${req.url}`, { headers: req.headers as Record<string, string> }), { params: Promise.resolve({}) });
    response.headers.forEach((value, name) => res.setHeader(name, value));
    res.writeHead(response.status).end(await response.text());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(tmp, { recursive: true, force: true });
  setPublicUrl('http://localhost:3000');
});

function directives(csp: string | null) {
  return new Map((csp ?? '').split(';').map((d) => {
    const [name, ...values] = d.trim().split(/\s+/);
    return [name ?? '', values];
  }));
}

describe('pages', () => {
  it('get a CSP whose scripts need a nonce made for this request, and may not be framed', () => {
    const first = proxy(new NextRequest('http://localhost:3000/hosts'));
    const second = proxy(new NextRequest('http://localhost:3000/hosts'));
    const csp = first.headers.get('content-security-policy');
    const d = directives(csp);
    const nonce = /'nonce-([A-Za-z0-9+/=]+)'/.exec(csp ?? '')?.[1];
    expect(nonce).toBeDefined();
    expect((nonce ?? '').length).toBeGreaterThanOrEqual(22);
    expect(d.get('script-src')).toEqual(["'self'", `'nonce-${nonce}'`, "'strict-dynamic'"]);
    expect(d.get('script-src')).not.toContain("'unsafe-inline'");
    expect(d.get('style-src-elem')).toEqual(["'self'", `'nonce-${nonce}'`]);
    expect(d.get('frame-ancestors')).toEqual(["'none'"]);
    expect(d.get('object-src')).toEqual(["'none'"]);
    expect(d.get('base-uri')).toEqual(["'self'"]);
    expect(first.headers.get('x-frame-options')).toBe('DENY');
    expect(first.headers.get('x-content-type-options')).toBe('nosniff');
    expect(first.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    // Next.js renders the page with the request's CSP (it takes the nonce from there) and the layout reads x-nonce.
    expect(first.headers.get('x-middleware-request-x-nonce')).toBe(nonce);
    expect(first.headers.get('x-middleware-request-content-security-policy')).toBe(csp);
    expect(second.headers.get('x-middleware-request-x-nonce')).not.toBe(nonce);
  });

  it('proxy.ts runs on pages, not on the API, /metrics or static files (which keep the base headers)', () => {
    const matches = (url: string, headers = {}) => unstable_doesMiddlewareMatch({ config: proxyConfig, url, headers });
    for (const page of ['/', '/login', '/hosts', '/hosts/web-01/config', '/settings/webhooks']) expect(matches(page), page).toBe(true);
    for (const other of ['/api/v1/hosts', '/api/auth/session', '/metrics', '/_next/static/chunks/main.js', '/favicon.ico']) expect(matches(other), other).toBe(false);
  });

  it('HSTS only when FLOTILLA_URL is https', () => {
    expect(proxy(new NextRequest('http://localhost:3000/')).headers.get('strict-transport-security')).toBeNull();
    setPublicUrl('https://fleet.example.com');
    try {
      const page = proxy(new NextRequest('https://fleet.example.com/'));
      expect(page.headers.get('strict-transport-security')).toBe('max-age=31536000');
      expect(directives(page.headers.get('content-security-policy')).has('upgrade-insecure-requests')).toBe(true);
      expect(baseSecurityHeaders()['Strict-Transport-Security']).toBe('max-age=31536000');
    } finally {
      setPublicUrl('http://localhost:3000');
    }
  });
});

describe('API and cache responses', () => {
  it('an API response carries nosniff, a CSP that allows nothing, no framing and a referrer policy', async () => {
    const res = await fetch(`${base}/api/v1/hosts`, { headers: { authorization: `Bearer ${fx.members.operator.token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(directives(res.headers.get('content-security-policy')).get('default-src')).toEqual(["'none'"]);
    expect(directives(res.headers.get('content-security-policy')).get('frame-ancestors')).toEqual(["'none'"]);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(res.headers.get('strict-transport-security')).toBeNull();
  });

  it('the binary cache, served before Next.js, too (an error answer included)', async () => {
    const refused = await fetch(`${base}/cache/nix-cache-info`);
    expect(refused.status).toBe(401);
    expect(refused.headers.get('x-content-type-options')).toBe('nosniff');
    const info = await fetch(`${base}/cache/nix-cache-info`, { headers: { authorization: `Bearer ${fx.members.operator.token}` } });
    expect(info.status).toBe(200);
    expect(info.headers.get('x-content-type-options')).toBe('nosniff');
    expect(info.headers.get('x-frame-options')).toBe('DENY');
  });
});
