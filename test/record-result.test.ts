// An agent's result changes its target and its host together. Recorded as two separate
// statements, the rollout driver could read a canary `succeeded` while the host row still
// named the old system, and fail the canary as "no longer runs the deployed system" (a
// flake seen in the e2e suite). Here the host row is held locked by another transaction
// while the result is recorded: nobody may see the target's new phase before the host's.
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { recordProgressBatch, recordResult, recordResults, reportKey } from '@/lib/deployments/delivery';
import { until } from './agent-harness';
import { makeOrg } from './fixtures';

const OLD = `/nix/store/${'a'.repeat(32)}-nixos-system-old`;
const NEW = `/nix/store/${'b'.repeat(32)}-nixos-system-new`;

it('the target and the host change in one transaction', async () => {
  const fx = await makeOrg();
  const [host] = await db().insert(hosts).values({ orgId: fx.org.id, name: 'atomic-01', online: true, currentSystem: OLD, lastSeen: new Date() }).returning();
  const [deployment] = await db().insert(deployments).values({ orgId: fx.org.id, strategy: {}, source: 'api', status: 'canary' }).returning();
  const [target] = await db().insert(deploymentTargets).values({ deploymentId: deployment!.id, hostId: host!.id, storePath: NEW, phase: 'confirming' }).returning();

  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const isLocked = new Promise<void>((resolve) => (locked = resolve));
  const holder = db().transaction(async (tx) => {
    await tx.select().from(hosts).where(eq(hosts.id, host!.id)).for('update');
    locked();
    await held;
  });
  await isLocked;

  const recording = recordResult(host!.id, { type: 'result', id: 'r1', deploymentId: deployment!.id, targetId: target!.id, outcome: 'succeeded', reason: null, logsTail: '', currentSystem: NEW });
  // Wait until the recording is blocked on the host row (it locks its hosts before anything else).
  await until('the result to wait for the host row', async () => {
    const [row] = await db().execute<{ n: number }>(
      `select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like '%"hosts"%'`,
    );
    return (row?.n ?? 0) > 0;
  });
  const [seen] = await db().select({ phase: deploymentTargets.phase }).from(deploymentTargets).where(eq(deploymentTargets.id, target!.id));
  expect(seen?.phase).toBe('confirming');

  release();
  await holder;
  expect(await recording).toBe(true);
  const [after] = await db().select({ phase: deploymentTargets.phase }).from(deploymentTargets).where(eq(deploymentTargets.id, target!.id));
  const [hostAfter] = await db().select({ currentSystem: hosts.currentSystem }).from(hosts).where(eq(hosts.id, host!.id));
  expect(after?.phase).toBe('succeeded');
  expect(hostAfter?.currentSystem).toBe(NEW);
});

// Reports are written in batches (lib/deployments/target-writer.ts). A foreign host naming
// someone else's target in the same batch must neither displace the owner's report nor touch
// its own row: the owner's progress and result are recorded, the foreign host's are not.
it("a foreign host's report in the same batch leaves the owner's recorded", async () => {
  const fx = await makeOrg();
  const [owner] = await db().insert(hosts).values({ orgId: fx.org.id, name: 'owner-01', online: true, currentSystem: OLD, lastSeen: new Date() }).returning();
  const [foreign] = await db().insert(hosts).values({ orgId: fx.org.id, name: 'foreign-01', online: true, currentSystem: OLD, lastSeen: new Date() }).returning();
  const [deployment] = await db().insert(deployments).values({ orgId: fx.org.id, strategy: {}, source: 'api', status: 'canary' }).returning();
  const [target] = await db().insert(deploymentTargets).values({ deploymentId: deployment!.id, hostId: owner!.id, storePath: NEW, phase: 'activating' }).returning();

  // The foreign claim comes first: keyed by target alone, it used to be the one kept.
  const confirm = await recordProgressBatch([
    { hostId: foreign!.id, targetId: target!.id, phase: 'downloading', message: 'foreign' },
    { hostId: owner!.id, targetId: target!.id, phase: 'confirming', message: 'owner' },
  ]);
  expect([...confirm]).toEqual([reportKey(owner!.id, target!.id)]);
  const [afterProgress] = await db().select().from(deploymentTargets).where(eq(deploymentTargets.id, target!.id));
  expect(afterProgress?.phase).toBe('confirming');
  expect(afterProgress?.progress).toContain('owner');
  expect(afterProgress?.progress).not.toContain('foreign');

  // The foreign result comes last: keyed by target alone, it used to replace the owner's.
  const result = { type: 'result' as const, id: 'r', deploymentId: deployment!.id, targetId: target!.id, reason: null, logsTail: '' };
  const recorded = await recordResults([
    { hostId: owner!.id, result: { ...result, outcome: 'succeeded', currentSystem: NEW } },
    { hostId: foreign!.id, result: { ...result, outcome: 'failed', reason: 'foreign', currentSystem: `/nix/store/${'c'.repeat(32)}-nixos-system-evil` } },
  ]);
  expect([...recorded]).toEqual([reportKey(owner!.id, target!.id)]);
  const [after] = await db().select().from(deploymentTargets).where(eq(deploymentTargets.id, target!.id));
  expect(after?.phase).toBe('succeeded');
  expect(after?.error).toBeNull();
  const [ownerAfter] = await db().select({ currentSystem: hosts.currentSystem }).from(hosts).where(eq(hosts.id, owner!.id));
  const [foreignAfter] = await db().select({ currentSystem: hosts.currentSystem, lastDeployPhase: hosts.lastDeployPhase }).from(hosts).where(eq(hosts.id, foreign!.id));
  expect(ownerAfter?.currentSystem).toBe(NEW);
  expect(foreignAfter).toEqual({ currentSystem: OLD, lastDeployPhase: null });
});
