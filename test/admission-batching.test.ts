// A reconnect storm brings thousands of hellos a second; their credential lookups, admissions,
// unfinished targets and restores go to PostgreSQL a batch at a time (lib/db/batch-loader.ts).
// Batched, each agent must still get exactly its own answer: valid, revoked and retired
// credentials side by side, two sockets of one host, hosts with and without targets.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { hostFromCredential } from '@/lib/agents/credentials';
import { generateSecret } from '@/lib/auth/secrets';
import { batchLoader } from '@/lib/db/batch-loader';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts, stateSnapshots } from '@/lib/db/schema';
import { unfinishedTargets } from '@/lib/deployments/delivery';
import { agentHandlers } from '@/lib/fleet/agent-handlers';
import { recordStateReport } from '@/lib/state/snapshots';
import { ZStateUnits } from '@/lib/agents/protocol';
import type { HostLink } from '@/lib/agents/gateway';
import { makeOrg } from './fixtures';

const SYSTEM = `/nix/store/${'d'.repeat(32)}-nixos-system-batch`;

async function enrolled(orgId: string, count: number) {
  const made = Array.from({ length: count }, (_, i) => ({ name: `batch-${i}`, ...generateSecret('hst') }));
  const rows = await db()
    .insert(hosts)
    .values(made.map((m) => ({ orgId, name: m.name, credentialHash: m.hash })))
    .returning();
  return made.map((m) => ({ ...m, row: rows.find((r) => r.name === m.name)! }));
}

describe('batched loads', () => {
  it('gathers the loads of a few milliseconds into one call, each answered with its own value', async () => {
    const calls: number[] = [];
    const double = batchLoader<number, number>(async (keys) => {
      calls.push(keys.length);
      return keys.map((k) => k * 2);
    });
    const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => double.load(i)));
    expect(answers).toEqual(Array.from({ length: 300 }, (_, i) => i * 2));
    expect(calls).toEqual([300]);
    // Past the batch limit, more calls; never one per key.
    const many = await Promise.all(Array.from({ length: 1_200 }, (_, i) => double.load(i)));
    expect(many[1_199]).toBe(2_398);
    expect(calls.slice(1)).toEqual([500, 500, 200]);
  });

  it('credential lookups: valid, unknown and retired credentials in one batch each get their own answer', async () => {
    const fx = await makeOrg();
    const agents = await enrolled(fx.org.id, 30);
    const retired = agents[29]!;
    await db().update(hosts).set({ retiredAt: new Date() }).where(eq(hosts.id, retired.row.id));
    const unknown = generateSecret('hst').secret;
    const found = await Promise.all([...agents.map((a) => hostFromCredential(a.secret)), hostFromCredential(unknown), hostFromCredential('not-a-credential')]);
    for (const [i, a] of agents.entries()) expect(found[i]?.id ?? null).toBe(a === retired ? null : a.row.id);
    expect(found[29]).toBeNull();
    expect(found.slice(30)).toEqual([null, null]);
    expect(found[0]).toEqual({ id: agents[0]!.row.id, name: 'batch-0', orgId: fx.org.id, credentialHash: agents[0]!.hash });
  });

  it('admissions: a stale credential in the batch is refused, the others are admitted; two sockets of one host both pass', async () => {
    const fx = await makeOrg();
    const agents = await enrolled(fx.org.id, 20);
    const link = (a: (typeof agents)[number], credentialHash = a.hash) =>
      ({ hostId: a.row.id, hostName: a.name, orgId: fx.org.id, credentialHash, gatewayId: crypto.randomUUID(), send: () => {}, log: () => {} }) as HostLink;
    const hello = { type: 'hello' as const, id: 'h', agentVersion: '1.0', currentSystem: SYSTEM, bootedSystem: SYSTEM, needsReboot: false, nixosVersion: '25.05.20250101.abcdef0', capabilities: [], pendingResults: [], running: null };
    // The socket of agent 0 holds the credential it had before a rotation.
    const admitted = await Promise.all([
      agentHandlers.admit(link(agents[0]!, generateSecret('hst').hash), hello),
      ...agents.slice(1).map((a) => agentHandlers.admit(link(a), hello)),
      agentHandlers.admit(link(agents[1]!), hello),
    ]);
    expect(admitted).toEqual([false, ...agents.slice(1).map(() => true), true]);
    const rows = await db().select({ id: hosts.id, online: hosts.online, currentSystem: hosts.currentSystem, nixpkgsDate: hosts.nixpkgsDate }).from(hosts).where(eq(hosts.orgId, fx.org.id));
    for (const r of rows) {
      const first = r.id === agents[0]!.row.id;
      expect(r).toEqual({ id: r.id, online: !first, currentSystem: first ? null : SYSTEM, nixpkgsDate: first ? null : '2025-01-01' });
    }
  });

  it("unfinished targets: each host gets its own, in one batch", async () => {
    const fx = await makeOrg();
    const agents = await enrolled(fx.org.id, 10);
    const [deployment] = await db().insert(deployments).values({ orgId: fx.org.id, strategy: {}, source: 'api', status: 'rolling' }).returning();
    const withTargets = agents.slice(0, 5);
    await db().insert(deploymentTargets).values(withTargets.map((a) => ({ deploymentId: deployment!.id, hostId: a.row.id, storePath: SYSTEM, phase: 'pending' as const })));
    // One of them finished: it is not unfinished.
    await db().execute(sql`update deployment_targets set phase = 'succeeded' where host_id = ${withTargets[4]!.row.id}`);
    const answers = await Promise.all(agents.map((a) => unfinishedTargets(a.row.id)));
    expect(answers.map((a) => a.length)).toEqual([1, 1, 1, 1, 0, 0, 0, 0, 0, 0]);
    const own = await db().select({ id: deploymentTargets.id }).from(deploymentTargets).where(eq(deploymentTargets.hostId, agents[2]!.row.id));
    expect(answers[2]?.[0]?.id).toBe(own[0]?.id);
  });
});

describe('state reports without snapshots, in one batch', () => {
  it('writes units only where they changed, lets the last of two reports win, and marks snapshots the agent no longer has', async () => {
    const fx = await makeOrg();
    const agents = await enrolled(fx.org.id, 4);
    const [changed, same, twice, withSnapshot] = agents.map((a) => a.row.id) as [string, string, string, string];
    const units = (name: string) => ZStateUnits.parse([{ name, kind: 'directory', path: `/var/lib/${name}` }]);
    await db().update(hosts).set({ stateUnits: units('kept') }).where(eq(hosts.id, same));
    await db().insert(stateSnapshots).values({ id: crypto.randomUUID(), orgId: fx.org.id, hostId: withSnapshot, unit: 'kept', kind: 'directory', hash: 'h', size: 1, reason: 'manual', takenAt: new Date() });
    const xmin = async (id: string) => (await db().execute<{ xmin: string }>(sql`select xmin::text as xmin from hosts where id = ${id}`))[0]?.xmin;
    const sameBefore = await xmin(same);
    const report = (u: ReturnType<typeof units>) => ({ type: 'state' as const, id: 's', units: u, snapshots: [] });
    await Promise.all([
      recordStateReport(changed, report(units('new'))),
      recordStateReport(same, report(units('kept'))),
      recordStateReport(twice, report(units('first'))),
      recordStateReport(twice, report(units('second'))),
      recordStateReport(withSnapshot, report([])),
    ]);
    const unitsOf = async (id: string) => (await db().select({ u: hosts.stateUnits }).from(hosts).where(eq(hosts.id, id)))[0]?.u.map((u) => u.name);
    expect(await unitsOf(changed)).toEqual(['new']);
    expect(await unitsOf(twice)).toEqual(['second']);
    // Not rewritten: the same row version as before.
    expect(await xmin(same)).toBe(sameBefore);
    const [snapshot] = await db().select({ deletedAt: stateSnapshots.deletedAt }).from(stateSnapshots).where(eq(stateSnapshots.hostId, withSnapshot));
    expect(snapshot?.deletedAt).not.toBeNull();
  });
});
