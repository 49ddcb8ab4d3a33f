// Next.js proxy (formerly middleware): gives every page a Content-Security-Policy with a
// nonce made for this request. Next.js reads the nonce from the request's CSP header
// and puts it on its own scripts; the root layout reads `x-nonce` for next-themes.
// Everything else (API, /metrics, static files, /cache) keeps the CSP server.ts set,
// which allows nothing. Only headers here: access is checked by route()/action().
import { type NextRequest, NextResponse } from 'next/server';
import { baseSecurityHeaders, newNonce, pageCsp } from '@/lib/http/security-headers';

export function proxy(request: NextRequest) {
  const nonce = newNonce();
  const csp = pageCsp(nonce, { dev: process.env.NODE_ENV === 'development' });
  const requestHeaders = new Headers(request.headers);
  requestHeaders.set('x-nonce', nonce);
  requestHeaders.set('Content-Security-Policy', csp);
  const response = NextResponse.next({ request: { headers: requestHeaders } });
  for (const [name, value] of Object.entries(baseSecurityHeaders())) response.headers.set(name, value);
  response.headers.set('Content-Security-Policy', csp);
  return response;
}

export const config = {
  matcher: [
    {
      // Pages only: not the API, Prometheus, Next's static files and images, or the favicon.
      source: '/((?!api/|metrics|_next/static|_next/image|favicon.ico).*)',
      // Prefetches fetch data for a later navigation, whose own request gets the page's nonce.
      missing: [
        { type: 'header', key: 'next-router-prefetch' },
        { type: 'header', key: 'purpose', value: 'prefetch' },
      ],
    },
  ],
};
