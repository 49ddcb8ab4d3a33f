import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { pollingEventStream } from '@/lib/api/sse';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts, users } from '@/lib/db/schema';
import { isFinalDeployment, ZRollout, type TDeploymentView } from './schemas';
import { outsideWindow } from './strategy';

export async function getDeployment(caller: Caller, id: string): Promise<TDeploymentView> {
  const [row] = await db()
    .select({ deployment: deployments, createdBy: users.email })
    .from(deployments)
    .leftJoin(users, eq(users.id, deployments.createdBy))
    .where(and(eq(deployments.id, id), eq(deployments.orgId, caller.org.id)));
  if (!row) throw new AppError('not_found', 'No such deployment');
  const d = row.deployment;
  const strategy = ZRollout.parse(d.strategy);
  const targets = await db()
    .select({ target: deploymentTargets, host: { name: hosts.name, online: hosts.online, tags: hosts.tags } })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .where(eq(deploymentTargets.deploymentId, id))
    .orderBy(asc(deploymentTargets.wave), asc(hosts.name));
  const [rollback] = await db().select({ id: deployments.id }).from(deployments).where(and(eq(deployments.rollbackOf, id), eq(deployments.orgId, caller.org.id))).limit(1);
  const now = new Date();
  const counts: Record<string, number> = {};
  for (const { target } of targets) counts[target.phase] = (counts[target.phase] ?? 0) + 1;
  const iso = (at: Date | null) => at?.toISOString() ?? null;
  return {
    id: d.id,
    status: d.status,
    source: d.source,
    strategy,
    reason: d.reason,
    rollbackOf: d.rollbackOf,
    rolledBackBy: rollback?.id ?? null,
    createdBy: row.createdBy,
    createdAt: d.createdAt.toISOString(),
    startedAt: iso(d.startedAt),
    finishedAt: iso(d.finishedAt),
    watchUntil: iso(d.watchUntil),
    counts,
    targets: targets.map(({ target: t, host }) => ({
      id: t.id,
      host: host.name,
      storePath: t.storePath,
      previousSystem: t.previousSystem,
      buildId: t.buildId,
      wave: t.wave,
      phase: t.phase,
      waiting:
        t.phase !== 'pending' || isFinalDeployment(d.status)
          ? null
          : t.storePath === null
            ? 'waiting for its build'
            : !host.online
              ? 'host offline'
              : t.releasedAt
                ? null
                : outsideWindow(host.tags, strategy.maintenanceWindows, now),
      error: t.error,
      rollbackReason: t.rollbackReason,
      releasedAt: iso(t.releasedAt),
      sentAt: iso(t.sentAt),
      finishedAt: iso(t.finishedAt),
    })),
  };
}

export async function listDeployments(caller: Caller, limit = 50) {
  const rows = await db()
    .select({
      deployment: deployments,
      targets: sql<number>`(select count(*) from deployment_targets t where t.deployment_id = ${deployments.id})::int`,
      succeeded: sql<number>`(select count(*) from deployment_targets t where t.deployment_id = ${deployments.id} and t.phase = 'succeeded')::int`,
      createdBy: users.email,
    })
    .from(deployments)
    .leftJoin(users, eq(users.id, deployments.createdBy))
    .where(eq(deployments.orgId, caller.org.id))
    .orderBy(desc(deployments.createdAt))
    .limit(limit);
  return rows.map((r) => ({
    id: r.deployment.id,
    status: r.deployment.status,
    source: r.deployment.source,
    createdAt: r.deployment.createdAt.toISOString(),
    finishedAt: r.deployment.finishedAt?.toISOString() ?? null,
    targets: r.targets,
    succeeded: r.succeeded,
    createdBy: r.createdBy,
  }));
}

/** Live view of a deployment: its status and every target's phase, sent when they change. */
export function deploymentEvents(caller: Caller, id: string, signal: AbortSignal) {
  let last = '';
  return pollingEventStream(async () => {
    const view = await getDeployment(caller, id);
    const snapshot = JSON.stringify(view);
    const done = isFinalDeployment(view.status);
    if (snapshot === last) return { events: [], done };
    last = snapshot;
    return { events: [{ event: 'deployment', data: view }], done };
  }, signal);
}
