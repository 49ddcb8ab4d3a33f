// 10,000 random and mutated frames against the gateway: each bad frame costs only
// its own socket; the server keeps serving, and a real agent connected all along
// never notices.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import * as hosts from '@/app/api/v1/hosts/route';
import { enrollHost } from '@/lib/agents/credentials';
import { AGENT_WS_PATH, SUBPROTOCOL } from '@/lib/agents/protocol';
import { db } from '@/lib/db/client';
import { hosts as hostsTable } from '@/lib/db/schema';
import { runAgent, startHarness, until, type AgentProcess, type Harness } from './agent-harness';
import { call, makeOrg, type OrgFixture } from './fixtures';

const FRAMES = 10_000;
let fx: OrgFixture;
let harness: Harness;
let tmp: string;
let agent: AgentProcess;

// A small seeded generator: a failure can be replayed.
function prng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

const VALID = [
  { type: 'hello', id: 'h', agentVersion: '0.1.0', currentSystem: null, bootedSystem: null, nixosVersion: null, capabilities: [], pendingResults: [] },
  { type: 'heartbeat', id: 'b', uptimeSeconds: 1, load1: 0, memUsedBytes: 1, memTotalBytes: 2, storeFreeBytes: 3, failedUnits: null, currentSystem: null, bootedSystem: null, nixosVersion: null },
  { type: 'progress', id: 'p', deploymentId: crypto.randomUUID(), targetId: crypto.randomUUID(), phase: 'activating', message: 'x' },
  { type: 'result', id: 'r', deploymentId: crypto.randomUUID(), targetId: crypto.randomUUID(), outcome: 'failed', reason: null, logsTail: '', currentSystem: null },
];

function frame(random: () => number): string | Buffer {
  const kind = Math.floor(random() * 6);
  const base = JSON.stringify(VALID[Math.floor(random() * VALID.length)]);
  switch (kind) {
    case 0: // random bytes
      return Buffer.from(Array.from({ length: 1 + Math.floor(random() * 200) }, () => Math.floor(random() * 256)));
    case 1: {
      // flip characters of a valid message
      const chars = base.split('');
      for (let i = 0; i < 1 + random() * 5; i++) chars[Math.floor(random() * chars.length)] = String.fromCharCode(32 + Math.floor(random() * 95));
      return chars.join('');
    }
    case 2: // truncate
      return base.slice(0, Math.floor(random() * base.length));
    case 3: {
      // wrong types and unknown fields
      const value = JSON.parse(base) as Record<string, unknown>;
      const keys = Object.keys(value);
      value[keys[Math.floor(random() * keys.length)] as string] = [null, 42, 'x'.repeat(5000), {}, [], true][Math.floor(random() * 6)];
      if (random() < 0.3) value.extra = 'field';
      return JSON.stringify(value);
    }
    case 4: // unknown types and other JSON
      return JSON.stringify([{ type: 'deploy' }, { type: 'x', id: '1' }, 'hello', 12, null, { type: 'hello' }][Math.floor(random() * 6)]);
    default: // deep nesting
      return `${'['.repeat(2000)}${']'.repeat(2000)}`;
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-fuzz-'));
  fx = await makeOrg();
  harness = await startHarness();
  const good = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: 'steady' } });
  const stateDir = path.join(tmp, 'steady');
  expect(await runAgent(['enroll', '--server', harness.base, '--token', good.json.enrollToken, '--state-dir', stateDir]).exited).toBe(0);
  agent = runAgent(['run', '--state-dir', stateDir, '--store-root', path.join(tmp, 'root')]);
  await until('the steady agent', async () => (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, 'steady'))))[0]?.online);
});

afterAll(async () => {
  agent?.child.kill('SIGKILL');
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('gateway under garbage', () => {
  it(`survives ${FRAMES} random and mutated frames`, { timeout: 180_000 }, async () => {
    // One host per concurrent socket: a second socket for the same host would replace the first.
    const credentials: string[] = [];
    for (let i = 0; i < 16; i++) {
      const fuzzed = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: `fuzzer-${i}` } });
      credentials.push((await enrollHost({ token: fuzzed.json.enrollToken })).credential);
    }
    const random = prng(20261122);
    let sent = 0;
    let closedByServer = 0;
    const codes = new Map<number, number>();
    const url = `${harness.base.replace('http', 'ws')}${AGENT_WS_PATH}`;

    // One frame per connection, so the server really parses every one: a bad frame
    // closes the socket; after a frame the server accepts, the client closes it.
    const worker = async (credential: string) => {
      while (sent < FRAMES) {
        const payload = frame(random);
        sent++;
        const ws = new WebSocket(url, SUBPROTOCOL, { headers: { authorization: `Bearer ${credential}` } });
        await new Promise<void>((resolve) => {
          let timer: NodeJS.Timeout | undefined;
          ws.once('open', () => {
            ws.send(payload);
            timer = setTimeout(() => ws.close(), 50);
          });
          ws.once('close', (code) => {
            clearTimeout(timer);
            codes.set(code, (codes.get(code) ?? 0) + 1);
            if (code === 1008 || code === 1003 || code === 1009) closedByServer++;
            resolve();
          });
          ws.once('error', () => resolve());
        });
      }
    };
    await Promise.all(credentials.map(worker));
    expect(sent).toBe(FRAMES);
    console.log(`[measure] gateway fuzz: close codes ${JSON.stringify(Object.fromEntries(codes))}`);
    // Most frames are garbage and were refused one by one.
    expect(closedByServer).toBeGreaterThan(FRAMES * 0.6);

    // The steady agent was never disturbed, and a new well-behaved client is served.
    const steady = (await db().select().from(hostsTable).where(and(eq(hostsTable.orgId, fx.org.id), eq(hostsTable.name, 'steady'))))[0];
    expect(steady?.online).toBe(true);
    expect(agent.output()).not.toMatch(/disconnected/);
    const probe = new WebSocket(url, SUBPROTOCOL, { headers: { authorization: `Bearer ${credentials[0]}` } });
    const welcome = await new Promise<string>((resolve, reject) => {
      probe.once('open', () => probe.send(JSON.stringify({ ...VALID[0], id: 'probe' })));
      probe.once('message', (data) => resolve(data.toString()));
      probe.once('error', reject);
    });
    expect(JSON.parse(welcome)).toMatchObject({ type: 'welcome', host: 'fuzzer-0' });
    probe.close();
  });
});
