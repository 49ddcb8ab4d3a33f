// Finding 8: retiring a host or revoking its credential cuts its agent off at once, on
// whichever server process holds the socket. A real agent connects to a server in a
// process of its own (test/harness-server.ts); the retire or revoke is made here, in
// another process, through the REST API or the CLI; NOTIFY carries it across.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hostCredential from '@/app/api/v1/hosts/[name]/credential/route';
import * as hostByName from '@/app/api/v1/hosts/[name]/route';
import * as hostsRoute from '@/app/api/v1/hosts/route';
import type { GuardedRoute } from '@/lib/api/route';
import { db } from '@/lib/db/client';
import { auditEvents, hosts } from '@/lib/db/schema';
import { runAgent, startHarnessProcess, until, type AgentProcess } from '../agent-harness';
import { call, makeOrg, type OrgFixture } from '../fixtures';

const root = path.resolve(import.meta.dirname, '../..');
let fx: OrgFixture;
let tmp: string;
let serverA: ChildProcess;
let baseA: string;
let api: http.Server;
let apiBase: string;
const agents: AgentProcess[] = [];

/** The two REST routes the CLI calls, served over HTTP by their real handlers (no Next.js build in Vitest). */
async function startApi(): Promise<{ server: http.Server; base: string }> {
  const routes: [RegExp, string, GuardedRoute | undefined][] = [
    [/^\/api\/v1\/hosts\/([^/]+)\/credential$/, 'DELETE', hostCredential.DELETE],
    [/^\/api\/v1\/hosts\/([^/]+)$/, 'DELETE', hostByName.DELETE],
  ];
  const server = http.createServer(async (req, res) => {
    const pathname = (req.url ?? '/').split('?')[0] as string;
    for (const [pattern, method, handler] of routes) {
      const match = pattern.exec(pathname);
      if (!match || req.method !== method || !handler) continue;
      const response = await handler(new NextRequest(`http://127.0.0.1${req.url}`, { method, headers: req.headers as Record<string, string> }), {
        params: Promise.resolve({ name: decodeURIComponent(match[1] as string) }),
      });
      res.writeHead(response.status, { 'content-type': 'application/json' }).end(await response.text());
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, base: `http://127.0.0.1:${(server.address() as { port: number }).port}` };
}

const hostRow = async (name: string) => (await db().select().from(hosts).where(and(eq(hosts.orgId, fx.org.id), eq(hosts.name, name))))[0];

/** A host with a real agent connected to process A, online. */
async function connectedHost(name: string): Promise<AgentProcess> {
  const created = await call(hostsRoute.POST, { method: 'POST', token: fx.members.operator.token, json: { name } });
  expect(created.status, JSON.stringify(created.json)).toBe(201);
  const stateDir = path.join(tmp, name);
  const enrol = runAgent(['enroll', '--server', baseA, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  const agent = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, `${name}-root`)]);
  agents.push(agent);
  await until(`${name} online`, async () => (await hostRow(name))?.online && agent.output().includes(`connected as ${name}`)).catch((error: Error) => {
    throw new Error(`${error.message}; agent said:\n${agent.output()}`);
  });
  return agent;
}

/** Waits for the agent to see its socket closed by the server; returns the milliseconds since `since`. */
async function closedWithin(agent: AgentProcess, since: number) {
  await until('the server to close the agent socket', async () => /disconnected \(4401/.test(agent.output()), 5_000).catch((error: Error) => {
    throw new Error(`${error.message}; agent said:\n${agent.output()}`);
  });
  return Date.now() - since;
}

/**
 * The agent tries again at once and is refused before the handshake: 401, or 429 once its
 * own failed attempts (or the earlier tests' agents') reach the per-address limit. It is
 * stopped then, so its retries do not count against the next test's agent.
 */
async function reconnectRefused(agent: AgentProcess) {
  await until('the reconnect to be refused', async () => /server refused the connection: HTTP (401|429)/.test(agent.output()), 10_000).catch((error: Error) => {
    throw new Error(`${error.message}; agent said:\n${agent.output()}`);
  });
  expect(agent.output()).not.toMatch(/disconnected \(4401[^]*connected as/);
  agent.child.kill('SIGKILL');
}

function runCli(args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
    cwd: root,
    env: { ...process.env, FLOTILLA_SERVER: apiBase, FLOTILLA_TOKEN: fx.members.operator.token, FLOTILLA_CONFIG: path.join(tmp, 'cli.json') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => (out += d));
  child.stderr?.on('data', (d) => (out += d));
  return new Promise<{ code: number | null; out: string }>((resolve) => child.on('exit', (code) => resolve({ code, out })));
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-retire-'));
  fx = await makeOrg();
  ({ child: serverA, base: baseA } = await startHarnessProcess());
  ({ server: api, base: apiBase } = await startApi());
}, 60_000);

afterAll(async () => {
  for (const a of agents) a.child.kill('SIGKILL');
  serverA?.kill('SIGTERM');
  api?.closeAllConnections();
  await new Promise<void>((resolve) => (api ? api.close(() => resolve()) : resolve()));
  await rm(tmp, { recursive: true, force: true });
});

describe('retire and revoke cut the agent off on every server process', () => {
  it('retiring a host over REST closes its socket on the other process within 2 s; its reconnect is refused', { timeout: 60_000 }, async () => {
    const name = `ret${Math.random().toString(36).slice(2, 7)}`;
    const agent = await connectedHost(name);
    const since = Date.now();
    const res = await call(hostByName.DELETE, { method: 'DELETE', token: fx.members.operator.token, params: { name } });
    expect(res.status).toBe(204);
    expect(await closedWithin(agent, since)).toBeLessThan(2_000);
    await reconnectRefused(agent);
    expect((await hostRow(name))?.retiredAt).not.toBeNull();
  });

  it('revoking the credential over REST (DELETE /hosts/:name/credential) does the same; the host stays', { timeout: 60_000 }, async () => {
    const name = `rev${Math.random().toString(36).slice(2, 7)}`;
    const agent = await connectedHost(name);
    const viewer = await call(hostCredential.DELETE, { method: 'DELETE', token: fx.members.viewer.token, params: { name } });
    expect(viewer.status).toBe(403);
    const since = Date.now();
    const res = await call(hostCredential.DELETE, { method: 'DELETE', token: fx.members.operator.token, params: { name } });
    expect(res.status).toBe(204);
    expect(await closedWithin(agent, since)).toBeLessThan(2_000);
    await reconnectRefused(agent);
    const row = await hostRow(name);
    expect(row).toMatchObject({ retiredAt: null, credentialHash: null, enrolledAt: null });
    const audit = await db().select().from(auditEvents).where(and(eq(auditEvents.objectId, row?.id as string), eq(auditEvents.action, 'host.credential.revoke')));
    expect(audit).toHaveLength(1);
  });

  it('`flotilla hosts revoke NAME` and `flotilla hosts retire NAME` do the same from the CLI', { timeout: 90_000 }, async () => {
    const revoked = `clv${Math.random().toString(36).slice(2, 7)}`;
    const first = await connectedHost(revoked);
    const revoke = await runCli(['hosts', 'revoke', revoked]);
    expect(revoke, revoke.out).toMatchObject({ code: 0 });
    expect(revoke.out).toMatch(/credential revoked/);
    // Starting the CLI takes a while (tsx): the 2 s count from the moment it answered.
    expect(await closedWithin(first, Date.now())).toBeLessThan(2_000);
    await reconnectRefused(first);

    const retired = `clr${Math.random().toString(36).slice(2, 7)}`;
    const second = await connectedHost(retired);
    const retire = await runCli(['hosts', 'retire', retired]);
    expect(retire, retire.out).toMatchObject({ code: 0 });
    expect(await closedWithin(second, Date.now())).toBeLessThan(2_000);
    await reconnectRefused(second);
    expect((await hostRow(retired))?.retiredAt).not.toBeNull();

    const unknown = await runCli(['hosts', 'retire', 'no-such-host']);
    expect(unknown.code).toBe(2);
    expect(unknown.out).toMatch(/404/);
  });
});
