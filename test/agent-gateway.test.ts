// The agent gateway with the real agent program: enrol through the CLI, connect,
// heartbeats land in PostgreSQL in batches; bad clients are refused or cut off
// without disturbing the others.
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as hosts from '@/app/api/v1/hosts/route';
import { enrollHost, revokeHostCredential } from '@/lib/agents/credentials';
import type { Gateway } from '@/lib/agents/gateway';
import { AGENT_WS_PATH, SUBPROTOCOL } from '@/lib/agents/protocol';
import { db } from '@/lib/db/client';
import { hostMetrics, hosts as hostsTable } from '@/lib/db/schema';
import { startHarness, runAgent, until, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

let fx: OrgFixture;
let harness: Harness;
let gateway: Gateway;
let base: string;
let tmp: string;
const agents: ChildProcess[] = [];

async function newHost(name: string) {
  const res = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name } });
  expect(res.status).toBe(201);
  return res.json.enrollToken as string;
}

const hostRow = async (name: string) => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, name))))[0];

function rawClient(credential: string | null, protocol = SUBPROTOCOL) {
  return new WebSocket(`${base.replace('http', 'ws')}${AGENT_WS_PATH}`, protocol, { headers: credential ? { authorization: `Bearer ${credential}` } : {} });
}

function closeOf(ws: WebSocket) {
  return new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
}

function refusalOf(ws: WebSocket) {
  return new Promise<number>((resolve) => {
    ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.once('error', () => {});
  });
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-agent-'));
  fx = await makeOrg();
  harness = await startHarness();
  gateway = harness.gateway;
  base = harness.base;
});

afterAll(async () => {
  for (const a of agents) a.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('agent and gateway', () => {
  it('the agent enrols with its CLI, connects, and its heartbeats reach the host row and host_metrics', async () => {
    const token = await newHost('agent-01');
    const stateDir = path.join(tmp, 'agent-01');
    const enrol = runAgent(['enroll', '--server', base, '--token', token, '--state-dir', stateDir]);
    expect(await enrol.exited, enrol.output()).toBe(0);
    expect(enrol.output()).toMatch(/enrolled as agent-01/);

    const running = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root-01')]);
    agents.push(running.child);
    const output = running.output;
    const host = await until('agent-01 online', async () => {
      const row = await hostRow('agent-01');
      return row?.online && row.lastHealth ? row : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}; agent said:\n${output()}`);
    });
    expect(host.agentVersion).toBe('0.1.0');
    expect(host.lastHealth).toMatchObject({ memTotalBytes: os.totalmem(), storeFreeBytes: expect.any(Number) });
    const samples = await db().select().from(hostMetrics).where(eq(hostMetrics.hostId, host.id));
    expect(samples.length).toBeGreaterThanOrEqual(1);
    expect(output()).toMatch(/connected as agent-01/);

    // A second agent on the same state directory refuses to start.
    const twin = runAgent(['run', '--state-dir', stateDir]);
    expect(await twin.exited).toBe(1);
    expect(twin.output()).toMatch(/another flotilla-agent \(pid \d+\) is running/);
  });

  it('refuses upgrades without a valid credential or the subprotocol, before the handshake', async () => {
    expect(await refusalOf(rawClient(null))).toBe(401);
    expect(await refusalOf(rawClient('hst_not-a-real-credential'))).toBe(401);
    const token = await newHost('agent-02');
    const { credential } = await enrollHost({ token });
    expect(await refusalOf(rawClient(credential, 'something.else'))).toBe(400);
  });

  it('a malformed message closes only that socket; a second connection replaces the first', async () => {
    const token = await newHost('agent-03');
    const { credential } = await enrollHost({ token });
    const bad = rawClient(credential);
    await new Promise((resolve) => bad.once('open', resolve));
    bad.send('{"type": "hello", "id": ');
    expect(await closeOf(bad)).toMatchObject({ code: 1008, reason: 'protocol error: not JSON' });

    const first = rawClient(credential);
    await new Promise((resolve) => first.once('open', resolve));
    const heartbeat = { type: 'heartbeat', id: 'x', uptimeSeconds: 1, load1: 0, memUsedBytes: 1, memTotalBytes: 2, storeFreeBytes: 3, failedUnits: null, currentSystem: null, bootedSystem: null, nixosVersion: null };
    first.send(JSON.stringify(heartbeat));
    expect((await closeOf(first)).reason).toBe('protocol error: hello must come first');

    const a = rawClient(credential);
    await new Promise((resolve) => a.once('open', resolve));
    const aClosed = closeOf(a);
    const b = rawClient(credential);
    await new Promise((resolve) => b.once('open', resolve));
    expect(await aClosed).toMatchObject({ code: 4000 });
    b.close();

    // The real agent from the first test never noticed.
    expect((await hostRow('agent-01'))?.online).toBe(true);
  });

  it('revoking a credential disconnects the agent at once, and it cannot come back', async () => {
    const before = gateway.connected();
    const host = await hostRow('agent-01');
    await revokeHostCredential(fx.members.operator.caller, host as NonNullable<typeof host>);
    // NOTIFY reaches the gateway, which closes the socket.
    await until('the socket to close', async () => gateway.connected() === before - 1);
    expect((await hostRow('agent-01'))?.online).toBe(false);
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await hostRow('agent-01'))?.online).toBe(false);
  });
});
