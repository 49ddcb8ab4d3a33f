// The server process: one Node HTTP server running the Next.js request handler.
// Routes that must not pay for Next.js routing (the binary cache under /cache, the
// agent WebSocket gateway at /api/agent/ws) are dispatched here before Next.js.
// Route handlers never see the socket: every request gets the client address resolved
// here (socket peer, X-Forwarded-For only from FLOTILLA_TRUSTED_PROXIES) in an internal
// header that a client cannot set (lib/auth/limiter/client-address.ts).
import http from 'node:http';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import next from 'next';
import { createGateway } from '@/lib/agents/gateway';
import { agentHandlers } from '@/lib/fleet/agent-handlers';
import { AGENT_WS_PATH } from '@/lib/agents/protocol';
import { markClientAddress } from '@/lib/auth/limiter/client-address';
import { urlHasControlCharacter } from '@/lib/api/control-characters';
import { safeErrorForLog } from '@/lib/api/errors';
import { handleCacheRequest } from '@/lib/cache/serve';
import { metrics, routeGroup } from '@/lib/health/metrics';
import { baseSecurityHeaders } from '@/lib/http/security-headers';
import { explainListenError } from './scripts/port';

export type Server = { url: string; close: () => Promise<void> };

const root = path.dirname(fileURLToPath(import.meta.url));

function refuseUpgrade(socket: Duplex, status: string, message: string) {
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(message)}\r\n\r\n${message}`);
}

/**
 * What every HTTP request goes through before Next.js: security headers, the client
 * address, the URL check, metrics, and the binary cache dispatched without Next.js.
 * Exported so bench/cache.ts measures the cache through this same path.
 */
export function dispatchRequest(handleNext: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>): http.RequestListener {
  const { requests, duration } = metrics();
  const securityHeaders = Object.entries(baseSecurityHeaders());
  return (req, res) => {
    const started = performance.now();
    // On everything, before any handler: pages get their own CSP from proxy.ts on top.
    for (const [name, value] of securityHeaders) res.setHeader(name, value);
    markClientAddress(req);
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    // Pages read their query without route()'s checks: refuse control characters for all at once.
    if (urlHasControlCharacter(req.url ?? '')) {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'invalid_request', message: 'Control characters (such as NUL) are not allowed in the URL' } }));
      return;
    }
    res.once('finish', () => {
      const route = routeGroup(pathname);
      requests.inc({ method: req.method ?? 'GET', route, status: String(res.statusCode) });
      duration.observe({ method: req.method ?? 'GET', route }, (performance.now() - started) / 1000);
    });
    if (pathname.startsWith('/cache/')) {
      handleCacheRequest(req, res, pathname).catch((error: unknown) => {
        console.error('[cache] request failed', safeErrorForLog(error));
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('cache error\n');
      });
      return;
    }
    handleNext(req, res).catch((error: unknown) => {
      console.error('[server] request failed', safeErrorForLog(error));
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'internal', message: 'Internal server error' } }));
    });
  };
}

export async function startServer(opts: { port: number; hostname?: string; dev?: boolean }): Promise<Server> {
  const dev = opts.dev ?? false;
  const app = next({ dev, dir: root, hostname: opts.hostname ?? 'localhost', port: opts.port });
  await app.prepare();
  const handle = app.getRequestHandler();
  const nextUpgrade = app.getUpgradeHandler();
  // Next attaches its own 'upgrade' listener to the server on the first request it handles
  // (NextCustomServer.setupWebSocketHandler), which then runs its route resolution for every
  // agent's upgrade as well (5 % of a core during a reconnect storm) and ends the socket when
  // the path matches a page. Upgrades are routed below, Next's HMR included: mark it done.
  if ('didWebSocketSetup' in app) (app as { didWebSocketSetup: boolean }).didWebSocketSetup = true;
  else console.warn('[server] Next.js no longer has didWebSocketSetup: check that it does not handle agent upgrades too');
  const gateway = createGateway({ handlers: agentHandlers });
  const server = http.createServer(dispatchRequest((req, res) => handle(req, res)));

  server.on('upgrade', (req, socket, head) => {
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    socket.on('error', () => socket.destroy());
    markClientAddress(req);
    if (pathname === AGENT_WS_PATH) return gateway.handleUpgrade(req, socket, head);
    if (dev && pathname.startsWith('/_next/')) {
      void nextUpgrade(req, socket, head);
      return;
    }
    refuseUpgrade(socket, '404 Not Found', `No WebSocket endpoint at ${pathname}\n`);
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A deeper accept queue than Node's 511 (the kernel caps it at net.core.somaxconn): when a
      // restarted server meets thousands of reconnecting agents, SYNs wait instead of being dropped
      // and retried seconds later, past the agents' handshake timeout.
      server.listen({ port: opts.port, host: opts.hostname, backlog: 4096 }, () => resolve());
    });
  } catch (error) {
    // Nothing listens: let go of what the gateway holds (its LISTEN connection) so the caller can stop cleanly.
    await gateway.close();
    throw explainListenError(error, opts.port, opts.hostname);
  }
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  return {
    url: `http://${opts.hostname ?? 'localhost'}:${port}`,
    close: async () => {
      await gateway.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 5_000).unref();
      });
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  // Not awaited at the top level: main() imports this module, which must finish evaluating first.
  void import('./scripts/start').then(({ main }) => main({ worker: false }));
}
