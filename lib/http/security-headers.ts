// The security headers of every response, decided in one place. server.ts sets the
// base set on everything it answers (API, /cache, /metrics, static files, errors), with a
// CSP that allows nothing; proxy.ts replaces that CSP on pages with one that lets the
// page's own scripts run, by a nonce made for each request.
import { env } from '@/lib/env';

/** HSTS only where the public URL is https: sent over plain http it would lock out a LAN install. */
function hsts(publicUrl: string): Record<string, string> {
  return publicUrl.startsWith('https://') ? { 'Strict-Transport-Security': 'max-age=31536000' } : {};
}

/** For responses that are not pages (JSON, NARs, metrics): no content of theirs may run, load anything or be framed. */
export const NO_CONTENT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export function baseSecurityHeaders(publicUrl = env().publicUrl): Record<string, string> {
  return {
    'Content-Security-Policy': NO_CONTENT_CSP,
    // Older browsers that ignore frame-ancestors.
    'X-Frame-Options': 'DENY',
    'X-Content-Type-Options': 'nosniff',
    // Not no-referrer: with it, browsers send `Origin: null` on same-origin form posts,
    // which the session's Origin check (and Next's server actions) would refuse.
    'Referrer-Policy': 'strict-origin-when-cross-origin',
    'Cross-Origin-Opener-Policy': 'same-origin',
    ...hsts(publicUrl),
  };
}

/** A nonce for one page: 128 random bits, base64 (what CSP's nonce-source expects). */
export function newNonce(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64');
}

/**
 * The CSP of a page. Scripts: only those carrying the nonce (Next.js puts it on its own
 * scripts when it finds it in the request's CSP) and what they load ('strict-dynamic').
 * Style elements: 'self' and the nonce (Next.js's, next-themes' and CodeMirror's inline
 * <style> carry it). Style attributes: 'unsafe-inline', because server-rendered markup
 * carries `style="width: …"` (progress bars, recharts) that no nonce can cover; attributes
 * cannot run script, and injected <style> elements, which could read the page with
 * selectors, stay blocked.
 */
export function pageCsp(nonce: string, opts: { dev: boolean; publicUrl?: string }): string {
  const publicUrl = opts.publicUrl ?? env().publicUrl;
  const directives = [
    "default-src 'self'",
    `script-src 'self' 'nonce-${nonce}' 'strict-dynamic'${opts.dev ? " 'unsafe-eval'" : ''}`,
    // In development Next.js injects styles without the nonce, so its docs allow inline styles there.
    `style-src 'self' ${opts.dev ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    `style-src-elem 'self' ${opts.dev ? "'unsafe-inline'" : `'nonce-${nonce}'`}`,
    "style-src-attr 'unsafe-inline'",
    "img-src 'self' data: blob:",
    "font-src 'self' data:",
    `connect-src 'self'${opts.dev ? ' ws: wss:' : ''}`,
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(publicUrl.startsWith('https://') ? ['upgrade-insecure-requests'] : []),
  ];
  return directives.join('; ');
}
