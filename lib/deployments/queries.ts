import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { pollingEventStream } from '@/lib/api/sse';
import { AppError } from '@/lib/api/errors';
import type { Caller } from '@/lib/auth/caller';
import { db } from '@/lib/db/client';
import { deployments, deploymentTargets, hosts, users } from '@/lib/db/schema';
import { isFinalDeployment } from './schemas';

export async function getDeployment(caller: Caller, id: string) {
  const [deployment] = await db()
    .select()
    .from(deployments)
    .where(and(eq(deployments.id, id), eq(deployments.orgId, caller.org.id)));
  if (!deployment) throw new AppError('not_found', 'No such deployment');
  const targets = await db()
    .select({ target: deploymentTargets, host: hosts.name })
    .from(deploymentTargets)
    .innerJoin(hosts, eq(hosts.id, deploymentTargets.hostId))
    .where(eq(deploymentTargets.deploymentId, id))
    .orderBy(asc(hosts.name));
  return {
    id: deployment.id,
    status: deployment.status,
    source: deployment.source,
    strategy: deployment.strategy,
    createdAt: deployment.createdAt.toISOString(),
    finishedAt: deployment.finishedAt?.toISOString() ?? null,
    targets: targets.map(({ target: t, host }) => ({
      id: t.id,
      host,
      storePath: t.storePath,
      phase: t.phase,
      error: t.error,
      rollbackReason: t.rollbackReason,
      sentAt: t.sentAt?.toISOString() ?? null,
      finishedAt: t.finishedAt?.toISOString() ?? null,
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
