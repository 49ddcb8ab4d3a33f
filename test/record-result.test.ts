// An agent's result changes its target and its host together. Recorded as two separate
// statements, the rollout driver could read a canary `succeeded` while the host row still
// named the old system, and fail the canary as "no longer runs the deployed system" (a
// flake seen in the e2e suite). Here the host row is held locked by another transaction
// while the result is recorded: nobody may see the target's new phase before the host's.
import { eq } from 'drizzle-orm';
import { expect, it } from 'vitest';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { recordResult } from '@/lib/deployments/delivery';
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
