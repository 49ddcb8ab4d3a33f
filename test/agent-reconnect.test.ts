// 50 agents (the agent's own connection code, in this process) connected to a server
// that restarts: all come back, spread out by the jittered backoff.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AgentConnection } from '@/agent/connection';
import * as hosts from '@/app/api/v1/hosts/route';
import { enrollHost } from '@/lib/agents/credentials';
import { startHarness, until, type Harness } from './agent-harness';
import { call, makeOrg } from './fixtures';

const AGENTS = 50;
let harness: Harness;
let tmp: string;
const connections: AgentConnection[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'flotilla-reconnect-'));
  harness = await startHarness();
});

afterAll(async () => {
  await Promise.all(connections.map((c) => c.stop()));
  await harness?.close();
  await rm(tmp, { recursive: true, force: true });
});

describe('a server restart', () => {
  it(`brings all ${AGENTS} agents back, spread out in time`, { timeout: 120_000 }, async () => {
    const fx = await makeOrg();
    const welcomes = new Map<number, number[]>();
    for (let i = 0; i < AGENTS; i++) {
      const created = await call(hosts.POST, { method: 'POST', token: fx.members.operator.token, json: { name: `fleet-${i}` } });
      const { credential } = await enrollHost({ token: created.json.enrollToken });
      const conn = new AgentConnection({
        server: harness.base,
        credential,
        paths: { storeRoot: path.join(tmp, `root-${i}`), profile: '/nix/var/nix/profiles/system' },
        log: () => {},
        // The production schedule scaled down 4×, so the test stays short: base 250 ms instead of 1 s.
        backoff: { baseMs: 250 },
        onMessage: (m) => {
          if (m.type === 'welcome') welcomes.set(i, [...(welcomes.get(i) ?? []), Date.now()]);
        },
      });
      connections.push(conn);
      conn.start();
    }
    await until('all agents connected', async () => harness.gateway.connected() === AGENTS, 30_000);

    const port = Number(new URL(harness.base).port);
    await harness.close();
    const downAt = Date.now();
    // The server is away for a moment, then back on the same address.
    await new Promise((r) => setTimeout(r, 500));
    harness = await startHarness({ port });
    await until('all agents back', async () => harness.gateway.connected() === AGENTS, 60_000);

    const returns = [...welcomes.values()].map((times) => (times.at(-1) as number) - downAt).sort((a, b) => a - b);
    expect(returns).toHaveLength(AGENTS);
    const spread = (returns.at(-1) as number) - (returns[0] as number);
    const median = returns[Math.floor(AGENTS / 2)] as number;
    console.log(`[measure] reconnect after restart: first ${returns[0]} ms, median ${median} ms, last ${returns.at(-1)} ms`);
    // Full jitter: not a thundering herd in one instant, but spread over hundreds of milliseconds.
    expect(spread).toBeGreaterThan(300);
    const herd = returns.filter((t) => t - (returns[0] as number) < 100).length;
    expect(herd).toBeLessThan(AGENTS / 2);
  });
});
