// A server with the same pieces server.ts mounts for agents (the enrol route, the
// binary cache, the WebSocket gateway) but without Next.js, plus the rollout driver a
// worker runs (unless a test runs real worker processes), and the real agent program
// run as a child process.
import { type ChildProcess, spawn } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { NextRequest } from 'next/server';
import * as enrollRoute from '@/app/api/agent/enroll/route';
import { createGateway, type Gateway } from '@/lib/agents/gateway';
import { agentHandlers } from '@/lib/fleet/agent-handlers';
import { startRolloutDriver } from '@/lib/deployments/driver';
import { startOutboxDispatcher } from '@/lib/events/dispatch';
import { AGENT_WS_PATH } from '@/lib/agents/protocol';
import { markClientAddress } from '@/lib/auth/limiter/client-address';
import { handleCacheRequest } from '@/lib/cache/serve';
import { resetEnvCache } from '@/lib/env';

const root = path.resolve(import.meta.dirname, '..');

export type Harness = { base: string; gateway: Gateway; close: () => Promise<void> };

export async function startHarness(opts: { port?: number; driver?: boolean; maxAdmitting?: number } = {}): Promise<Harness> {
  const gateway = createGateway({ handlers: agentHandlers, log: () => {}, maxAdmitting: opts.maxAdmitting });
  const driver = opts.driver === false ? null : startRolloutDriver({ tickMs: 250, log: () => {} });
  // What a worker runs beside its driver: the outbox's background dispatcher.
  const outbox = opts.driver === false ? null : startOutboxDispatcher({ intervalMs: 500, log: () => {} });
  let base = '';
  const server = http.createServer(async (req, res) => {
    const pathname = (req.url ?? '/').split('?')[0] as string;
    if (pathname.startsWith('/cache/')) return handleCacheRequest(req, res, pathname);
    if (pathname !== '/api/agent/enroll' || req.method !== 'POST') return res.writeHead(404).end();
    markClientAddress(req); // as server.ts does before Next.js
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const response = await enrollRoute.POST(
      new NextRequest(`${base}${req.url}`, { method: 'POST', headers: req.headers as Record<string, string>, body: Buffer.concat(chunks) }),
      { params: Promise.resolve({}) },
    );
    res.writeHead(response.status, { 'content-type': 'application/json' }).end(await response.text());
  });
  server.on('upgrade', (req, socket, head) => {
    if (req.url === AGENT_WS_PATH) gateway.handleUpgrade(req, socket, head);
    else socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  // Enrolment hands agents the cache URL from FLOTILLA_URL: this server.
  process.env.FLOTILLA_URL = base;
  resetEnvCache();
  return {
    base,
    gateway,
    close: async () => {
      await driver?.stop();
      await outbox?.stop();
      await gateway.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The same harness in a process of its own (test/harness-server.ts), for tests that need
 * a second server process on the same database; `port` brings it back on the same address.
 */
export async function startHarnessProcess(opts: { port?: number } = {}): Promise<{ child: ChildProcess; base: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/harness-server.ts'], {
    cwd: root,
    env: { ...process.env, ...(opts.port ? { HARNESS_PORT: String(opts.port) } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const base = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d) => {
      out += d;
      const ready = /READY (\S+)/.exec(out);
      if (ready) resolve(ready[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`the harness process exited (${code})`)));
  });
  return { child, base };
}

export type AgentProcess = { child: ChildProcess; output: () => string; exited: Promise<number | null> };

/** The agent from source, or from the esbuild bundle (much quicker to start, for tests with many agents). */
export function runAgent(args: string[], env: Record<string, string> = {}, opts: { bundle?: string } = {}): AgentProcess {
  const entry = opts.bundle ? [opts.bundle] : ['--import', 'tsx', 'agent/main.ts'];
  const child = spawn(process.execPath, [...entry, ...args], {
    cwd: root,
    env: { ...process.env, FLOTILLA_AGENT_BACKOFF_MS: '200', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return { child, output: () => out, exited: new Promise((resolve) => child.on('exit', resolve)) };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
