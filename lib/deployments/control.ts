// What people do to a running deployment: pause, resume, cancel, and roll back a whole
// deployment. Each is one guarded transaction on the deployment row, audited, that also
// writes the outbox events waking the rollout engine (lib/events).
import { and, eq, inArray } from 'drizzle-orm';
import { recordAudit } from '@/lib/audit/record';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import type { Tx } from '@/lib/db/client';
import { ZRollout } from '@/lib/db/json-types';
import { deployments, deploymentTargets, hosts } from '@/lib/db/schema';
import { IN_FLIGHT_TARGET_PHASES, ROLLING_DEPLOYMENT_STATUSES, UNFINISHED_DEPLOYMENT_STATUSES } from '@/lib/db/statuses';
import { rollbackStrategy } from './advance';
import { assertTokenReaches } from '@/lib/hosts/reach';
import { emit, transaction } from '@/lib/events/outbox';
import { writeDeployment, type Systems } from './create';

type Status = (typeof deployments.$inferSelect)['status'];

/** Locks the caller's deployment and checks a scoped token may touch all its hosts. */
async function lockDeployment(tx: Tx, caller: Caller, id: string) {
  const [d] = await tx
    .select()
    .from(deployments)
    .where(and(eq(deployments.id, id), eq(deployments.orgId, caller.org.id)))
    .for('update');
  if (!d) throw new AppError('not_found', 'No such deployment');
  const targetHosts = await tx
    .select({ name: hosts.name, tags: hosts.tags })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .where(eq(deploymentTargets.deploymentId, id));
  assertTokenReaches(caller, targetHosts);
  return d;
}

function refuse(action: string, status: Status): never {
  throw new AppError('conflict', `Cannot ${action} a deployment that is ${status}`, { status });
}

async function transition(caller: Caller, id: string, action: string, from: readonly Status[], change: (tx: Tx, d: typeof deployments.$inferSelect) => Promise<Partial<typeof deployments.$inferSelect>>) {
  return transaction(async (tx) => {
    const d = await lockDeployment(tx, caller, id);
    if (!from.includes(d.status)) refuse(action, d.status);
    const set = await change(tx, d);
    await tx
      .update(deployments)
      .set({ ...set, updatedAt: new Date() })
      .where(and(eq(deployments.id, id), eq(deployments.status, d.status)));
    await recordAudit(tx, caller, { action: `deployment.${action}`, objectType: 'deployment', objectId: id, before: { status: d.status }, after: { status: set.status } });
    await emit(tx, { type: 'deployment.changed', deploymentId: id });
    if (set.status === 'cancelled') await emit(tx, { type: 'deployment.finished', deploymentId: id });
    return { id, status: set.status as Status };
  });
}

/** Nothing new starts; what is in flight finishes. */
export function pauseDeployment(caller: Caller, id: string) {
  return transition(caller, id, 'pause', ROLLING_DEPLOYMENT_STATUSES, async (_tx, d) => ({ status: 'paused', pausedAt: new Date(), reason: `paused by ${caller.user.email} while ${d.status}` }));
}

/** Back to the canary stage if the canaries had not passed yet, else to the waves. */
export function resumeDeployment(caller: Caller, id: string) {
  return transition(caller, id, 'resume', ['paused'], async (tx, d) => {
    const canaries = await tx.select({ phase: deploymentTargets.phase }).from(deploymentTargets).where(and(eq(deploymentTargets.deploymentId, id), eq(deploymentTargets.wave, 0)));
    const watchPassed = d.watchUntil !== null && d.watchUntil <= new Date();
    const status: Status = canaries.length > 0 && !watchPassed ? 'canary' : 'rolling';
    return { status, pausedAt: null, reason: null };
  });
}

/**
 * Stops the deployment: targets not yet sent are cancelled; agents working on one are
 * sent `cancel`, which they honour until their profile changes. A host past that point
 * is never confirmed, so its agent rolls back by itself (magic rollback).
 */
export function cancelDeployment(caller: Caller, id: string) {
  return transition(caller, id, 'cancel', UNFINISHED_DEPLOYMENT_STATUSES, async (tx) => {
    await tx
      .update(deploymentTargets)
      .set({ phase: 'cancelled', error: `not started: cancelled by ${caller.user.email}`, finishedAt: new Date(), updatedAt: new Date() })
      .where(and(eq(deploymentTargets.deploymentId, id), eq(deploymentTargets.phase, 'pending')));
    // Hosts already working on it are told to stop, which they do until their profile changes.
    const inFlight = await tx
      .select({ hostId: deploymentTargets.hostId })
      .from(deploymentTargets)
      .where(and(eq(deploymentTargets.deploymentId, id), inArray(deploymentTargets.phase, [...IN_FLIGHT_TARGET_PHASES])));
    if (inFlight.length) await emit(tx, { type: 'deployment.cancelled', deploymentId: id, hostIds: inFlight.map((t) => t.hostId) });
    return { status: 'cancelled', finishedAt: new Date(), reason: `cancelled by ${caller.user.email}` };
  });
}

/**
 * A new deployment that takes every host this one changed back to the system it ran
 * before. The original stops starting anything and is marked rolled back.
 */
export function rollbackDeployment(caller: Caller, id: string) {
  return transaction(async (tx) => {
    const d = await lockDeployment(tx, caller, id);
    if (d.status === 'rolled-back' || d.status === 'pending') refuse('roll back', d.status);
    const rows = await tx
      .select({ t: deploymentTargets, host: hosts })
      .from(deploymentTargets)
      .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
      .where(and(eq(deploymentTargets.deploymentId, id), inArray(deploymentTargets.phase, ['succeeded', ...IN_FLIGHT_TARGET_PHASES])));
    const touched = rows.filter((r) => r.t.previousSystem && r.t.previousSystem !== r.t.storePath);
    if (touched.length === 0) throw new AppError('conflict', 'No host of this deployment has a previous system to go back to');
    // Whatever was still waiting will not start now.
    await tx
      .update(deploymentTargets)
      .set({ phase: 'cancelled', error: 'not started: the deployment was rolled back', finishedAt: new Date(), updatedAt: new Date() })
      .where(and(eq(deploymentTargets.deploymentId, id), eq(deploymentTargets.phase, 'pending')));
    const systems: Systems = new Map(touched.map((r) => [r.host.id, { storePath: r.t.previousSystem, buildId: null }]));
    const owner = { orgId: caller.org.id, userId: caller.user.id, actor: caller };
    const rollback = await writeDeployment(tx, owner, touched.map((r) => r.host), rollbackStrategy(ZRollout.parse(d.strategy)), systems, 'rollback', { rollbackOf: id });
    await tx
      .update(deployments)
      .set({ status: 'rolled-back', reason: `rolled back by ${caller.user.email} in deployment ${rollback.id}`, finishedAt: d.finishedAt ?? new Date(), updatedAt: new Date() })
      .where(and(eq(deployments.id, id), eq(deployments.status, d.status)));
    await emit(tx, { type: 'deployment.changed', deploymentId: rollback.id });
    // Webhooks and the requests that followed the original hear that it ended.
    await emit(tx, { type: 'deployment.finished', deploymentId: id });
    return rollback;
  });
}
