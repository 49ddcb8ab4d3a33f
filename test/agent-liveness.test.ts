// The agent notices a silent server by itself. Between the real agent process and the
// gateway sits a TCP proxy that can swallow everything on the connections it carries
// while keeping them open (a hung server, a half-open connection: TCP never tells). The
// agent's own pings keep a quiet but healthy server's connection; silence beyond
// FLOTILLA_AGENT_SILENCE_MS makes it drop the socket and reconnect with its backoff.
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as hosts from '@/app/api/v1/hosts/route';
import { db } from '@/lib/db/client';
import { hosts as hostsTable } from '@/lib/db/schema';
import { resetEnvCache } from '@/lib/env';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const SILENCE_MS = 1_500;
const BACKOFF_MS = 200;

let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let agent: AgentProcess;
let proxy: net.Server;
let proxyUrl: string;
const host = `live${Math.random().toString(36).slice(2, 8)}`;
/** Connections through the proxy; a swallowed one stays open and passes nothing either way. */
const pipes: { client: net.Socket; upstream: net.Socket; swallowed: boolean }[] = [];

function startProxy(port: number) {
  return net.createServer((client) => {
    const upstream = net.connect(port, '127.0.0.1');
    const pipe = { client, upstream, swallowed: false };
    pipes.push(pipe);
    client.on('data', (d) => void (pipe.swallowed || upstream.write(d)));
    upstream.on('data', (d) => void (pipe.swallowed || client.write(d)));
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
}

const connections = () => agent.output().match(/connected as /g)?.length ?? 0;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-liveness-'));
  process.env.FLOTILLA_DATA_DIR = tmp;
  resetEnvCache();
  fx = await makeOrg();
  harness = await startHarness();
  proxy = startProxy(Number(new URL(harness.base).port));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
  const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: host } });
  const stateDir = path.join(tmp, 'state');
  const enrol = runAgent(['enroll', '--server', proxyUrl, '--token', created.json.enrollToken, '--state-dir', stateDir]);
  expect(await enrol.exited, enrol.output()).toBe(0);
  agent = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root')], { FLOTILLA_AGENT_SILENCE_MS: String(SILENCE_MS), FLOTILLA_AGENT_BACKOFF_MS: String(BACKOFF_MS) });
  await until('the agent to connect', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, host))))[0]?.online);
  await until('the welcome', async () => connections() === 1);
}, 60_000);

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  for (const p of pipes) p.client.destroy();
  proxy?.close();
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('client-side liveness', () => {
  it('keeps the connection to a quiet but healthy server (its own pings are answered)', async () => {
    // The gateway pings only every 30 s and heartbeats go one way: without the agent's own
    // pings, three silence periods would end this connection. Nothing is expected to happen,
    // so this waits a fixed time.
    await new Promise((r) => setTimeout(r, 3 * SILENCE_MS));
    expect(connections(), agent.output()).toBe(1);
    expect(agent.output()).not.toMatch(/silent/);
  });

  it('drops a connection on which the server fell silent and reconnects within silence + backoff', async () => {
    for (const p of pipes) p.swallowed = true;
    const from = Date.now();
    await until('the agent to reconnect', async () => connections() === 2, 20_000).catch((e: Error) => {
      throw new Error(`${e.message}\nagent:\n${agent.output()}`);
    });
    const took = Date.now() - from;
    console.log(`[measure] reconnect after the server fell silent: ${took} ms (silence ${SILENCE_MS} ms)`);
    expect(agent.output()).toMatch(/the server has been silent for \d+\.\d s; dropping the connection/);
    // Silence, at most one ping interval (silence/3) to notice, the first backoff, a new handshake and hello.
    expect(took).toBeLessThan(SILENCE_MS + SILENCE_MS / 3 + BACKOFF_MS + 2_000);
    // Counted from the last pong, which came up to one ping interval before the pipes went quiet.
    expect(took).toBeGreaterThan(SILENCE_MS - SILENCE_MS / 3 - 100);
  });
});
