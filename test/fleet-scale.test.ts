// Correctness at a size that shows it (issue 17): hundreds of simulated agents speaking
// the real protocol with real credentials (bench/sim/agent.ts) on the real gateway, the
// rollout driver and the outbox, one deployment to all of them at once. What broke at
// 5,000 hosts breaks here first in kind: connected hosts marked offline, deadlocks,
// confirmations later than the agent waits, one announcement per host and re-announce
// loops, a reconnect crowd queueing on the pool. `npm run bench:fanout` is the full size.
import { and, eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as deploymentsRoute from '@/app/api/v1/deployments/route';
import { HOST_CHANNEL } from '@/lib/agents/host-events';
import { sweepPresence } from '@/lib/agents/presence';
import { db } from '@/lib/db/client';
import { agentGateways, deploymentTargets, deployments, hosts } from '@/lib/db/schema';
import { emptyCounters, SimAgent, type Counters } from '../bench/sim/agent';
import { seedFleet, storePath, type Fleet } from '../bench/sim/harness';
import { startHarness, until, type Harness } from './agent-harness';
import { call } from './fixtures';

const N = 400;
const CONFIRM_TIMEOUT = 120;

let harness: Harness;
let fleet: Fleet;
let agents: SimAgent[] = [];
let counters: Counters;
let watcher: postgres.Sql;
const heard: string[] = [];

const online = async () => (await db().select({ n: sql<number>`count(*)::int` }).from(hosts).where(and(eq(hosts.orgId, fleet.orgId), eq(hosts.online, true))))[0]?.n ?? 0;
const deadlocks = async () => Number((await watcher`select deadlocks from pg_stat_database where datname = current_database()`)[0]?.deadlocks ?? 0);

function connectAll() {
  counters = emptyCounters();
  agents = fleet.hosts.map((h) => new SimAgent(h, () => harness.base.replace('http', 'ws'), { stepDelayMs: 20, handshakeTimeoutMs: 15_000 }, counters));
  for (const a of agents) a.start();
}

beforeAll(async () => {
  // Few admitted at once, so the crowd below meets admission control. 25 was enough while
  // each admission made its own queries; batched (lib/db/batch-loader.ts) they finish so fast
  // that 400 agents sometimes never found 25 in flight (0 refusals in one CI run).
  harness = await startHarness({ maxAdmitting: 3 });
  fleet = await seedFleet(N);
  // A connection outside the pools, as an observer would have.
  watcher = postgres(process.env.DATABASE_URL as string, { max: 1, onnotice: () => {} });
  await watcher.listen(HOST_CHANNEL, (payload) => heard.push(payload));
}, 60_000);

afterAll(async () => {
  for (const a of agents) a.stop();
  await harness?.close();
  await watcher?.end();
});

describe(`${N} agents on one gateway`, () => {
  it('all connect at once through admission control: some are told to come back, none times out', { timeout: 120_000 }, async () => {
    const started = Date.now();
    connectAll();
    await until('every agent online', async () => (await online()) === N && harness.gateway.connected() === N, 90_000);
    const seconds = (Date.now() - started) / 1000;
    console.log(`[measure] ${N} agents connected in ${seconds.toFixed(1)} s; ${counters.http503} upgrades answered 503 + Retry-After; ${counters.attempts} attempts`);
    expect(counters.http503).toBeGreaterThan(0);
    expect(counters.handshakeTimeouts).toBe(0);
  });

  it('presence does not wait for the main pool: with every connection of it busy, gateways beat and nobody is swept', { timeout: 60_000 }, async () => {
    const [before] = await watcher`select alive_at from agent_gateways order by alive_at desc limit 1`;
    // Every connection of the main pool (10) held for 7 s, longer than a beat (5 s).
    const busy = Array.from({ length: Number(process.env.FLOTILLA_DB_POOL ?? 10) }, () => db().execute(sql`select pg_sleep(7)`));
    await new Promise((r) => setTimeout(r, 6_000));
    const [after] = await watcher`select alive_at from agent_gateways order by alive_at desc limit 1`;
    expect(new Date(after?.alive_at).getTime()).toBeGreaterThan(new Date(before?.alive_at).getTime());
    expect(await sweepPresence()).toBe(0);
    await Promise.all(busy);
    expect(await online()).toBe(N);
  });

  it('a deployment to all of them at once: one announcement, every agent its deploy once, confirmed in time, no deadlock, nobody offline', { timeout: 180_000 }, async () => {
    const system = storePath('nixos-system-scale');
    const storeHash = system.slice('/nix/store/'.length, '/nix/store/'.length + 32);
    // The new system as a closure the cache holds (one path, no references), as a CI push leaves it.
    await watcher`insert into cache_objects (org_id, store_hash, store_path, nar_url, file_size, nar_hash, nar_size, "references")
                  values (${fleet.orgId}, ${storeHash}, ${system}, ${`nar/${storeHash}.nar.xz`}, 1024, ${'sha256:' + '0'.repeat(52)}, 4096, ${[]}::text[])`;
    const deadlocksBefore = await deadlocks();
    heard.length = 0;
    let minOnline = N;
    let watching = true;
    const presence = (async () => {
      while (watching) {
        minOnline = Math.min(minOnline, await online());
        await sweepPresence();
        await new Promise((r) => setTimeout(r, 250));
      }
    })();
    const apiAt = Date.now();
    const res = await call(deploymentsRoute.POST, {
      method: 'POST',
      token: fleet.token,
      json: { agents: Object.fromEntries(fleet.hosts.map((h) => [h.name, system])), rollout: { canaries: 0, maxInFlight: '100%', confirmTimeoutSeconds: CONFIRM_TIMEOUT } },
    });
    const created = res.json as { id: string };
    expect(res.status, JSON.stringify(created)).toBe(201);
    const done = await until(
      'the deployment to succeed',
      async () => {
        const [d] = await db().select().from(deployments).where(eq(deployments.id, created.id));
        return d?.status === 'succeeded' ? d : undefined;
      },
      150_000,
    );
    watching = false;
    await presence;
    const deployAts = agents.flatMap((a) => [...a.timings.values()].filter((t) => t.targetId && t.deployAt).map((t) => t.deployAt - apiAt)).sort((a, b) => a - b);
    const p99 = deployAts[Math.floor(deployAts.length * 0.99)] ?? NaN;
    console.log(`[measure] ${N} hosts: API call → deploy frame p50 ${deployAts[deployAts.length >> 1]} ms, p99 ${p99} ms, max ${deployAts.at(-1)} ms; → succeeded ${(done.finishedAt?.getTime() ?? 0) - apiAt} ms`);

    expect(done.reason).toBe(`${N} succeeded`);
    const targets = await db().select({ phase: deploymentTargets.phase, attempts: deploymentTargets.attempts }).from(deploymentTargets).where(eq(deploymentTargets.deploymentId, created.id));
    expect(targets.every((t) => t.phase === 'succeeded' && t.attempts === 1)).toBe(true);
    // Each agent got its deploy exactly once, and its confirmation well within its timeout.
    expect(counters.deploys).toBe(N);
    expect(counters.repeatedDeploys).toBe(0);
    expect(counters.lateConfirms).toBe(0);
    expect(counters.rolledBack).toBe(0);
    // Announcements are per deployment, not per host (and no re-announce loop).
    expect(heard.filter((p) => p.startsWith('released:')).length).toBeLessThanOrEqual(2);
    expect(heard.filter((p) => p.startsWith('deploy:')).length).toBe(0);
    expect(await deadlocks()).toBe(deadlocksBefore);
    // No connected host was ever marked offline.
    expect(minOnline).toBe(N);
    expect(await db().select().from(agentGateways)).toHaveLength(1);
  });
});
