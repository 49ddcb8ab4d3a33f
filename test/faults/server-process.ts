// A server process for the fault suite: the agent gateway, the binary cache, enrolment
// and the deployment API on one port, on DATABASE_URL (the fault proxy in front of
// PostgreSQL). Not server.ts itself: that needs a Next.js production build (`next build`,
// minutes on these 2-core machines, and the tree has none), while everything a fault
// here can touch — the gateway, the cache, the route handlers — is the same code
// server.ts mounts (as test/harness-server.ts does), called the way Next.js calls it.
// No rollout driver: that runs in the worker processes, as in production.
// Counts every response by status; GET /faults/stats returns the counts. Prints `READY <url>`.
import http from 'node:http';
import { NextRequest } from 'next/server';
import * as enrollRoute from '@/app/api/agent/enroll/route';
import * as deploymentById from '@/app/api/v1/deployments/[id]/route';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import { createGateway } from '@/lib/agents/gateway';
import { agentHandlers } from '@/lib/fleet/agent-handlers';
import { AGENT_WS_PATH } from '@/lib/agents/protocol';
import type { GuardedRoute } from '@/lib/api/route';
import { markClientAddress } from '@/lib/auth/limiter/client-address';
import { handleCacheRequest } from '@/lib/cache/serve';

const log = (line: string) => console.log(`[server ${process.pid}] ${new Date().toISOString()} ${line}`);
const statuses = new Map<number, number>();

function routeFor(method: string, pathname: string): { handler: GuardedRoute; params: Record<string, string> } | null {
  if (pathname === '/api/agent/enroll' && method === 'POST') return { handler: enrollRoute.POST, params: {} };
  if (pathname === '/api/v1/deployments' && method === 'POST') return { handler: deploymentsRoute.POST, params: {} };
  const byId = /^\/api\/v1\/deployments\/([0-9a-f-]{36})$/.exec(pathname);
  if (byId && method === 'GET') return { handler: deploymentById.GET, params: { id: byId[1] as string } };
  return null;
}

const server = http.createServer(async (req, res) => {
  res.once('finish', () => statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1));
  const pathname = (req.url ?? '/').split('?')[0] as string;
  try {
    if (pathname === '/faults/stats') return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(Object.fromEntries(statuses)));
    if (pathname.startsWith('/cache/')) return await handleCacheRequest(req, res, pathname);
    const route = routeFor(req.method ?? 'GET', pathname);
    if (!route) return res.writeHead(404).end();
    markClientAddress(req);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = req.method === 'GET' ? undefined : Buffer.concat(chunks);
    const response = await route.handler(new NextRequest(`http://${req.headers.host}${req.url}`, { method: req.method, headers: req.headers as Record<string, string>, body }), {
      params: Promise.resolve(route.params),
    });
    res.writeHead(response.status, { 'content-type': response.headers.get('content-type') ?? 'application/json' }).end(await response.text());
  } catch (error) {
    // As server.ts's fallback: a 500, and a line saying why.
    log(`request ${req.method} ${pathname} failed: ${error instanceof Error ? error.message : String(error)}`);
    if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { code: 'internal', message: 'Internal server error' } }));
  }
});

const gateway = createGateway({ handlers: agentHandlers, log });
server.on('upgrade', (req, socket, head) => {
  socket.on('error', () => socket.destroy());
  markClientAddress(req);
  if (req.url === AGENT_WS_PATH) gateway.handleUpgrade(req, socket, head);
  else socket.destroy();
});

await new Promise<void>((resolve) => server.listen(Number(process.env.FAULTS_PORT ?? 0), '127.0.0.1', resolve));
console.log(`READY http://127.0.0.1:${(server.address() as { port: number }).port}`);
process.once('SIGTERM', () => {
  void gateway.close().then(() => process.exit(0));
});
